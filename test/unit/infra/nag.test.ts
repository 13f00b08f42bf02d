import { CfnParameter, Duration } from "aws-cdk-lib";
import { SecurityGroup, Subnet, Vpc } from "aws-cdk-lib/aws-ec2";
import { Schedule } from "aws-cdk-lib/aws-events";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { importSecret, SchemaSource } from "../../../infra/construct";
import { nagAcknowledgements } from "../../../infra/nag";
import { buildSync, fixtureSchema, nagFindings, resourcesOf } from "./support";

describe("cdk-nag (AwsSolutions and Serverless packs)", () => {
  it("finds nothing unacknowledged in the default construct", () => {
    const { app } = buildSync();
    expect(nagFindings(app)).toEqual([]);
  });

  it("finds nothing unacknowledged with a VPC, Amazon OpenSearch, an imported secret, an email and a schema file", () => {
    const { app, template } = buildSync(
      {
        schema: fixtureSchema(),
        alarmEmail: "ops@example.com",
        criticalAlarmEmail: "oncall@example.com",
        pollerReservedConcurrency: true,
      },
      (stack) => ({
        vpc: Vpc.fromVpcAttributes(stack, "Vpc", {
          vpcId: "vpc-0123456789abcdef0",
          availabilityZones: ["eu-west-1a"],
        }),
        vpcSubnets: { subnets: [Subnet.fromSubnetId(stack, "S1", "subnet-0123456789abcdef0")] },
        searchEngine: {
          kind: "aws-opensearch",
          domainArn: "arn:aws:es:eu-west-1:111122223333:domain/search",
        },
        secret: importSecret(stack, "Secret", {
          arn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:s",
        }),
        pollSchedule: Schedule.rate(Duration.minutes(2)),
      }),
    );
    expect(Object.keys(resourcesOf(template, "AWS::EC2::SecurityGroup"))).toHaveLength(1);
    expect(nagFindings(app)).toEqual([]);
  });

  it("finds nothing unacknowledged with OpenSearch Serverless, own security groups and a deploy-time schema URL", () => {
    const { app } = buildSync({}, (stack) => ({
      schema: SchemaSource.url(new CfnParameter(stack, "SchemaUrl").valueAsString),
      vpc: Vpc.fromVpcAttributes(stack, "Vpc", {
        vpcId: "vpc-0123456789abcdef0",
        availabilityZones: ["eu-west-1a"],
      }),
      vpcSubnets: { subnets: [Subnet.fromSubnetId(stack, "S1", "subnet-0123456789abcdef0")] },
      securityGroups: [SecurityGroup.fromSecurityGroupId(stack, "Sg", "sg-0123456789abcdef0")],
      searchEngine: {
        kind: "aws-opensearch-serverless",
        collectionArn: "arn:aws:aoss:eu-west-1:111122223333:collection/abc123",
      },
    }));
    expect(nagFindings(app)).toEqual([]);
  });

  it("does report a finding the construct did not acknowledge (the check is live)", () => {
    const { app, stack } = buildSync();
    new Queue(stack, "Unprotected", { enforceSSL: false });
    const findings = nagFindings(app);
    expect(findings.some((f) => f.includes("AwsSolutions-SQS4") && f.includes("Test/Unprotected"))).toBe(
      true,
    );
  });

  it("gives every acknowledgement a reason and a single resource, not a stack", () => {
    const { sync } = buildSync({ alarmEmail: "ops@example.com" });
    const functions = sync.node.findChild("Functions") as never;
    const queues = sync.node.findChild("Queues") as never;
    const list = nagAcknowledgements({
      functions,
      queues,
      secret: sync.secret,
      ownSecret: true,
      searchEngine: { kind: "elasticsearch" },
      inVpc: false,
    });
    expect(list.length).toBeGreaterThan(10);
    for (const a of list) {
      expect(a.reason.length, a.id).toBeGreaterThan(80);
      expect(a.scope.node.path.split("/").length, a.scope.node.path).toBeGreaterThan(3);
    }
  });
});
