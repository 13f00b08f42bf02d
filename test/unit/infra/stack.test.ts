import { App, RemovalPolicy } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { CONTEXT_KEYS, readSettings } from "../../../infra/context";
import { createApp } from "../../../infra/create-app";
import {
  FIXTURE_ENTRIES,
  FIXTURE_SCHEMA,
  functionProps,
  NO_BUNDLING,
  nagFindings,
  resourcesOf,
} from "./support";

function synth(context: Record<string, unknown> = {}) {
  const { app, stack } = createApp({
    context: { ...NO_BUNDLING, ...context },
    entries: FIXTURE_ENTRIES,
    builtinCloudFormationValidation: false,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

function settingsOf(context: Record<string, unknown>) {
  return readSettings(new App({ context }).node);
}

describe("the app's context", () => {
  it("has defaults for everything, so a fresh clone synthesizes with no context", () => {
    const s = settingsOf({});
    expect(s.stackName).toBe("Slotsync");
    expect(s.schema).toBeUndefined();
    expect(s.searchEngine).toEqual({ kind: "elasticsearch" });
    expect(s.pollerEnabled).toBe(true);
    expect(s.network).toBeUndefined();
    expect(s.consumer).toEqual({});
    expect(s.thresholds).toEqual({});
  });

  it("reads strings from the command line and typed values from cdk.json", () => {
    const s = settingsOf({
      schemaUrl: "s3://bucket/schema.json",
      consumerBatchSize: "25",
      consumerMaxConcurrency: 8,
      consumerMaxBatchingWindowSeconds: "3",
      pollerEnabled: "false",
      walWarningGb: "7.5",
      walCriticalGb: 9,
      subnetIds: "subnet-a, subnet-b",
      vpcId: "vpc-0123456789abcdef0",
      logRetentionDays: "90",
      pollSchedule: "rate(2 minutes)",
    });
    expect(s.schema?.kind).toBe("url");
    expect(s.schema?.value).toBe("s3://bucket/schema.json");
    expect(s.consumer.batchSize).toBe(25);
    expect(s.consumer.maxConcurrency).toBe(8);
    expect(s.consumer.maxBatchingWindow?.toSeconds()).toBe(3);
    expect(s.pollerEnabled).toBe(false);
    expect(s.thresholds).toEqual({ walWarningGb: 7.5, walCriticalGb: 9 });
    expect(s.network).toEqual({
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-a", "subnet-b"],
      securityGroupIds: [],
    });
    expect(s.logRetention).toBe(90);
    expect(s.pollSchedule?.expressionString).toBe("rate(2 minutes)");
  });

  it("reports every bad value at once, naming the key", () => {
    let message = "";
    try {
      settingsOf({
        consumerBatchSize: "lots",
        pollerEnabled: "maybe",
        searchEngine: "solr",
        slot: "Has-Caps",
        logRetentionDays: "31",
        schemaFile: "a.json",
        schemaUrl: "https://x/y.json",
        pollSchedule: "every minute",
        subnetIds: "subnet-a",
        consumerBatchSzie: "10",
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const key of [
      "consumerBatchSize",
      "pollerEnabled",
      "searchEngine",
      "slot",
      "logRetentionDays",
      "schemaFile, schemaUrl",
      "pollSchedule",
      "subnetIds, securityGroupIds: need vpcId",
      "consumerBatchSzie: unknown setting",
    ]) {
      expect(message).toContain(key);
    }
  });

  it("reads the poller mode: economy by default, latency on request, anything else named", () => {
    expect(settingsOf({}).pollerMode).toBe("economy");
    expect(settingsOf({ pollerMode: "latency" }).pollerMode).toBe("latency");
    expect(() => settingsOf({ pollerMode: "fast" })).toThrow(/pollerMode: must be economy or latency/);
  });

  it("reads the deploy-safety settings: reserved concurrency, removal policies, tags, alarms", () => {
    const defaults = settingsOf({});
    expect(defaults.pollerReservedConcurrency).toBe(false);
    expect(defaults.disabledAlarms).toEqual([]);
    expect(defaults.tags).toEqual({});
    const s = settingsOf({
      pollerReservedConcurrency: "true",
      secretRemovalPolicy: "destroy",
      queueRemovalPolicy: "retain",
      tags: "team=search, cost-center=42",
      disabledAlarms: "SlotLag,PollerThrottles",
      criticalAlarmEmail: "oncall@example.com",
    });
    expect(s.pollerReservedConcurrency).toBe(true);
    expect(s.secretRemovalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(s.queueRemovalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(s.tags).toEqual({ team: "search", "cost-center": "42" });
    expect(s.disabledAlarms).toEqual(["SlotLag", "PollerThrottles"]);
    expect(s.criticalAlarmEmail).toBe("oncall@example.com");
    let message = "";
    try {
      settingsOf({
        pollerReservedConcurrency: "1",
        secretRemovalPolicy: "snapshot",
        tags: "novalue",
        disabledAlarms: "SlotLagg",
        criticalAlarmEmail: "oncall",
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const key of [
      "pollerReservedConcurrency: must be true or false",
      "secretRemovalPolicy: must be retain or destroy",
      "tags:",
      "disabledAlarms: unknown alarm SlotLagg",
      "criticalAlarmEmail: must be an email address",
    ])
      expect(message).toContain(key);
  });

  it("needs the domain or collection ARN for Amazon OpenSearch", () => {
    expect(() => settingsOf({ searchEngine: "aws-opensearch" })).toThrow(/openSearchArn/);
    expect(
      settingsOf({
        searchEngine: "aws-opensearch-serverless",
        openSearchArn: "arn:aws:aoss:eu-west-1:111122223333:collection/abc",
      }).searchEngine,
    ).toEqual({
      kind: "aws-opensearch-serverless",
      collectionArn: "arn:aws:aoss:eu-west-1:111122223333:collection/abc",
    });
  });

  it("documents every key it reads", () => {
    for (const [key, text] of Object.entries(CONTEXT_KEYS)) expect(text.length, key).toBeGreaterThan(10);
  });
});

describe("SlotsyncStack", () => {
  it("asks for the schema URL as a parameter when the context names no schema", () => {
    const { template } = synth();
    const parameters = template.toJSON().Parameters as Record<string, { AllowedPattern?: string }>;
    const pattern = new RegExp(parameters.SchemaUrl?.AllowedPattern ?? "^$");
    expect(pattern.test("s3://configs/slotsync/schema.json")).toBe(true);
    expect(pattern.test("https://config.example.com/schema.json")).toBe(true);
    // A presigned URL or one with a user would sit in a plain environment variable.
    expect(pattern.test("https://b.s3.amazonaws.com/s.json?X-Amz-Signature=abc")).toBe(false);
    expect(pattern.test("https://u:p@config.example.com/s.json")).toBe(false);
    expect(functionProps(template, "poller").Environment.Variables.SCHEMA_URL).toEqual({ Ref: "SchemaUrl" });
  });

  it("is environment-agnostic by default, so synth needs no AWS account", () => {
    const { stack } = synth();
    expect(stack.account).toMatch(/^\$\{Token/);
    expect(stack.region).toMatch(/^\$\{Token/);
  });

  it("bundles a schema file named in the context and drops the parameter", () => {
    const { template } = synth({ schemaFile: FIXTURE_SCHEMA });
    expect(template.toJSON().Parameters?.SchemaUrl).toBeUndefined();
    expect(functionProps(template, "consumer").Environment.Variables.SCHEMA).toBe("/var/task/schema.json");
  });

  it("puts the functions into the VPC's given subnets without a lookup, in one security group it outputs", () => {
    const { template } = synth({
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    });
    const sgId = Object.keys(resourcesOf(template, "AWS::EC2::SecurityGroup"))[0];
    for (const role of ["poller", "consumer", "bootstrap", "monitor"]) {
      expect(functionProps(template, role).VpcConfig).toEqual({
        SubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        SecurityGroupIds: [{ "Fn::GetAtt": [sgId, "GroupId"] }],
      });
    }
    const roles = Object.values(resourcesOf(template, "AWS::IAM::Role"));
    expect(roles).toHaveLength(4);
    for (const r of roles)
      expect(JSON.stringify(r.Properties.ManagedPolicyArns)).toContain("AWSLambdaVPCAccessExecutionRole");
    expect(template.toJSON().Outputs?.SecurityGroupId).toBeDefined();
  });

  it("uses the security groups named in the context instead of creating one", () => {
    const { template } = synth({
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: "subnet-0123456789abcdef0",
      securityGroupIds: "sg-0123456789abcdef0",
    });
    expect(Object.keys(resourcesOf(template, "AWS::EC2::SecurityGroup"))).toHaveLength(0);
    expect(functionProps(template, "poller").VpcConfig).toEqual({
      SubnetIds: ["subnet-0123456789abcdef0"],
      SecurityGroupIds: ["sg-0123456789abcdef0"],
    });
  });

  it("imports the secret named in the context instead of creating one", () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slotsync-AbCdEf";
    const { template } = synth({ secretArn: arn });
    expect(Object.keys(resourcesOf(template, "AWS::SecretsManager::Secret"))).toHaveLength(0);
    expect(functionProps(template, "bootstrap").Environment.Variables.SLOTSYNC_SECRET_ARN).toBe(arn);
  });

  it("outputs what the operator needs after deploy", () => {
    const outputs = synth().template.toJSON().Outputs as Record<string, unknown>;
    for (const name of [
      "SecretArn",
      "BootstrapFunctionName",
      "PollerFunctionName",
      "PollerRuleName",
      "QueueUrl",
      "DeadLetterQueueUrl",
      "AlarmTopicArn",
      "DashboardName",
    ]) {
      expect(outputs[name], name).toBeDefined();
    }
  });

  it("takes its name from the context and passes cdk-nag as configured by the app", () => {
    const { app, stack } = synth({ stackName: "SlotsyncOrders", alarmEmail: "ops@example.com" });
    expect(stack.stackName).toBe("SlotsyncOrders");
    expect(nagFindings(app)).toEqual([]);
  });
});

describe("one slot name for the CLI and the stack", () => {
  it("uses the same default slot in the construct as the CLI and the functions", async () => {
    const { DEFAULT_SLOT_NAME: cli } = await import("../../../lib/config");
    const { DEFAULT_SLOT_NAME: stack } = await import("../../../infra/construct");
    expect(stack).toBe(cli);
  });
});
