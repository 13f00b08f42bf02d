import { CfnParameter, Duration } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { Schedule } from "aws-cdk-lib/aws-events";
import { describe, expect, it } from "vitest";
import { defaultPollerTimeout, pollerRunSeconds, SchemaSource } from "../../../infra/construct";
import {
  actionsOf,
  buildSync,
  FIXTURE_HANDLER,
  fixtureSchema,
  functionId,
  functionProps,
  resourcesOf,
  roleStatements,
} from "./support";

const ROLES = ["poller", "consumer", "bootstrap", "monitor"] as const;

describe("SlotsyncSync queues", () => {
  it("creates a key queue (kept 7 days) and a DLQ (kept 14, longer), both SSE-SQS, with redrive after 5 receives", () => {
    const { template } = buildSync();
    const queues = Object.values(resourcesOf(template, "AWS::SQS::Queue"));
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const key = queues.find((q) => q.Properties.RedrivePolicy !== undefined);
    const dlq = queues.find((q) => q.Properties.RedrivePolicy === undefined);
    // SQS counts retention from the first enqueue: the DLQ must keep letters longer than the queue.
    expect(key?.Properties.MessageRetentionPeriod).toBe(7 * 24 * 3600);
    expect(dlq?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
  });

  it("refuses plain HTTP on both queues", () => {
    const { template } = buildSync();
    const policies = Object.values(resourcesOf(template, "AWS::SQS::QueuePolicy"));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it("gives the key queue a visibility timeout of at least six consumer timeouts", () => {
    for (const timeout of [undefined, Duration.seconds(30), Duration.minutes(3)]) {
      const { template } = buildSync(timeout ? { consumer: { timeout } } : {});
      const consumerTimeout = functionProps(template, "consumer").Timeout as number;
      const main = Object.values(resourcesOf(template, "AWS::SQS::Queue")).find(
        (q) => q.Properties.RedrivePolicy,
      );
      expect(main?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * consumerTimeout);
    }
  });

  it("takes another maxReceiveCount and refuses nonsense", () => {
    const { template } = buildSync({ maxReceiveCount: 3 });
    template.hasResourceProperties("AWS::SQS::Queue", { RedrivePolicy: { maxReceiveCount: 3 } });
    expect(() => buildSync({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
  });
});

describe("SlotsyncSync functions", () => {
  it("runs every function on Node.js 22, ARM64, with its own log group kept one month", () => {
    const { template } = buildSync();
    for (const role of ROLES) {
      const fn = functionProps(template, role);
      expect(fn.Runtime).toBe("nodejs22.x");
      expect(fn.Architectures).toEqual(["arm64"]);
      expect(fn.Handler).toBe("index.handler");
      expect((fn.LoggingConfig as { LogGroup: unknown }).LogGroup).toBeDefined();
      expect(fn.Environment.Variables.NODE_OPTIONS).toBe("--enable-source-maps");
      expect(fn.Environment.Variables.NODE_EXTRA_CA_CERTS).toBe("/var/runtime/ca-cert.pem");
      expect(fn.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(`slotsync-${role}`);
      expect(fn.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe("slotsync");
    }
    const groups = Object.values(resourcesOf(template, "AWS::Logs::LogGroup"));
    expect(groups).toHaveLength(4);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it("passes the queues, the slot, the WAL thresholds and the secret's ARN to every function", () => {
    const { template } = buildSync();
    for (const role of ROLES) {
      const env = functionProps(template, role).Environment.Variables;
      expect(env.SQS_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^SyncQueuesQueue/) });
      expect(env.SQS_DLQ_URL).toEqual({ Ref: expect.stringMatching(/^SyncQueuesDeadLetterQueue/) });
      expect(env.SLOTSYNC_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^SyncSecret/) });
      expect(env.SLOTSYNC_SLOT).toBe("slotsync");
      expect(env.WAL_WARNING_THRESHOLD_GB).toBe("12");
      expect(env.WAL_CRITICAL_THRESHOLD_GB).toBe("15");
    }
  });

  it("reserves one execution for the poller only when asked (a low account quota would fail the deploy)", () => {
    expect(functionProps(buildSync().template, "poller").ReservedConcurrentExecutions).toBeUndefined();
    const reserved = buildSync({ pollerReservedConcurrency: true }).template;
    expect(functionProps(reserved, "poller").ReservedConcurrentExecutions).toBe(1);
    for (const role of ["consumer", "bootstrap", "monitor"])
      expect(functionProps(reserved, role).ReservedConcurrentExecutions).toBeUndefined();
  });

  it("schedules the poller every minute; runs overlap the next tick, the timeout is Lambda's maximum", () => {
    const { template } = buildSync();
    const poller = functionProps(template, "poller");
    // The run stops starting cycles 3 s after the next tick, whose run waits for the lease
    // meanwhile; only a cycle inside a transaction larger than one run goes on, up to the margin
    // before the 15-minute timeout.
    expect(poller.Timeout).toBe(900);
    expect(poller.Environment.Variables.POLLER_RUN_SECONDS).toBe("63");
    expect(poller.Environment.Variables.POLLER_MODE).toBe("economy");
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId(template, "poller"), "Arn"] } })],
    });
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: functionId(template, "poller") },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 75,
    });
  });

  it("with one reserved execution, runs end 2 s before the next tick instead (an overlapping tick would be throttled)", () => {
    const { template } = buildSync({ pollerReservedConcurrency: true, pollerMode: "latency" });
    const poller = functionProps(template, "poller");
    expect(poller.Environment.Variables.POLLER_RUN_SECONDS).toBe("58");
    expect(poller.Environment.Variables.POLLER_MODE).toBe("latency");
  });

  it("derives the poller timeout from the schedule, and takes an explicit one", () => {
    expect(defaultPollerTimeout(Schedule.rate(Duration.minutes(1))).toSeconds()).toBe(900);
    expect(defaultPollerTimeout(Schedule.rate(Duration.minutes(5))).toSeconds()).toBe(900);
    expect(defaultPollerTimeout(Schedule.rate(Duration.hours(1))).toSeconds()).toBe(900);
    expect(defaultPollerTimeout(Schedule.expression("cron(0/2 * * * ? *)")).toSeconds()).toBe(300);
    const { template } = buildSync({
      pollSchedule: Schedule.rate(Duration.minutes(2)),
      pollerTimeout: Duration.seconds(90),
    });
    expect(functionProps(template, "poller").Timeout).toBe(90);
    // 90 s leaves 75 s before the margin: the run stops there, before the 2-minute rate.
    expect(functionProps(template, "poller").Environment.Variables.POLLER_RUN_SECONDS).toBe("75");
    expect(pollerRunSeconds(Schedule.expression("cron(0/2 * * * ? *)"), Duration.minutes(5))).toBeUndefined();
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(2 minutes)" });
  });

  it("can deploy the poller schedule disabled until bootstrap enables it", () => {
    const { template } = buildSync({ pollerEnabled: false });
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      State: "DISABLED",
    });
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      State: "ENABLED",
    });
  });

  it("feeds the consumer from the key queue with partial batch responses", () => {
    const { template } = buildSync();
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: functionId(template, "consumer") },
      EventSourceArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^SyncQueuesQueue"), "Arn"] },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect(functionProps(template, "consumer").Timeout).toBe(60);
  });

  it("takes the consumer's batch size, window, concurrency and memory", () => {
    const { template } = buildSync({
      consumer: {
        batchSize: 50,
        maxBatchingWindow: Duration.seconds(10),
        maxConcurrency: 20,
        memorySize: 2048,
      },
    });
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    expect(functionProps(template, "consumer").MemorySize).toBe(2048);
  });

  it("gives bootstrap 15 minutes, the poller rule's name and the right to enable and disable it", () => {
    const { template } = buildSync();
    const bootstrap = functionProps(template, "bootstrap");
    expect(bootstrap.Timeout).toBe(900);
    const ruleId = Object.entries(resourcesOf(template, "AWS::Events::Rule")).find(
      ([, r]) => r.Properties.ScheduleExpression === "rate(1 minute)",
    )?.[0];
    expect(bootstrap.Environment.Variables.POLLER_RULE_NAME).toEqual({ Ref: ruleId });
    const rules = (role: string) =>
      roleStatements(template, role).filter((s) =>
        actionsOf(s).some((a) => a.startsWith("events:") && a.endsWith("Rule")),
      );
    expect(rules("bootstrap").map(actionsOf)).toEqual([["events:EnableRule", "events:DisableRule"]]);
    expect(rules("bootstrap")[0]?.Resource).toEqual({ "Fn::GetAtt": [ruleId, "Arn"] });
    // The consumer finishing a copy's last range enables the poller, and may do nothing else to it.
    expect(functionProps(template, "consumer").Environment.Variables.POLLER_RULE_NAME).toEqual({
      Ref: ruleId,
    });
    expect(rules("consumer").map(actionsOf)).toEqual([["events:EnableRule"]]);
    expect(rules("consumer")[0]?.Resource).toEqual({ "Fn::GetAtt": [ruleId, "Arn"] });
    expect(rules("poller")).toEqual([]);
    expect(rules("monitor")).toEqual([]);
  });

  it("runs the monitor every five minutes and lets it put events on the default bus", () => {
    const { template } = buildSync();
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId(template, "monitor"), "Arn"] } })],
    });
    const put = roleStatements(template, "monitor").find((s) => actionsOf(s).includes("events:PutEvents"));
    expect(JSON.stringify(put?.Resource)).toContain(":event-bus/default");
  });

  it("grants sending to the key queue to poller, consumer and bootstrap, and to the DLQ to the consumer only", () => {
    const { template } = buildSync();
    const sendsTo = (role: string) =>
      roleStatements(template, role)
        .filter((s) => actionsOf(s).includes("sqs:SendMessage"))
        .map((s) => JSON.stringify(s.Resource));
    expect(sendsTo("poller")).toEqual([expect.stringContaining("SyncQueuesQueue")]);
    expect(sendsTo("bootstrap")).toEqual([expect.stringContaining("SyncQueuesQueue")]);
    expect(sendsTo("consumer").sort()).toEqual([
      expect.stringContaining("SyncQueuesDeadLetterQueue"),
      expect.stringContaining("SyncQueuesQueue"),
    ]);
    expect(sendsTo("monitor")).toEqual([]);
  });

  it("bundles a schema file into the functions and points SCHEMA at it", () => {
    const { template } = buildSync({ schema: fixtureSchema() });
    for (const role of ROLES) {
      const env = functionProps(template, role).Environment.Variables;
      expect(env.SCHEMA).toBe("/var/task/schema.json");
      expect(env.SCHEMA_URL).toBeUndefined();
    }
    expect(
      Object.keys(resourcesOf(template, "AWS::IAM::Policy")).some((id) => id.includes("SchemaRead")),
    ).toBe(false);
  });

  it("passes an https schema URL as SCHEMA_URL without any S3 grant", () => {
    const { template } = buildSync();
    expect(functionProps(template, "poller").Environment.Variables.SCHEMA_URL).toBe(
      "https://config.example.com/schema.json",
    );
    expect(JSON.stringify(template.toJSON())).not.toContain("s3:GetObject");
  });

  it("grants s3:GetObject on exactly the schema object of an s3:// URL", () => {
    const { template } = buildSync({ schema: SchemaSource.url("s3://config-bucket/sync/schema.json") });
    for (const role of ROLES) {
      const get = roleStatements(template, role).find((s) => actionsOf(s).includes("s3:GetObject"));
      expect(get?.Resource).toEqual({
        "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":s3:::config-bucket/sync/schema.json"]],
      });
    }
  });

  it("makes the S3 grant conditional when the URL is a deploy-time parameter", () => {
    const { template } = buildSync({}, (stack) => ({
      schema: SchemaSource.url(new CfnParameter(stack, "SchemaUrl").valueAsString),
    }));
    expect(functionProps(template, "poller").Environment.Variables.SCHEMA_URL).toEqual({ Ref: "SchemaUrl" });
    const conditions = template.toJSON().Conditions as Record<string, unknown>;
    const [conditionId, condition] = Object.entries(conditions)[0] ?? [];
    expect(JSON.stringify(condition)).toContain('"s3"');
    const policies = template.findResources("AWS::IAM::Policy", { Condition: conditionId });
    const [policy] = Object.values(policies) as Array<{
      Properties: { Roles: unknown[]; PolicyDocument: unknown };
    }>;
    expect(policy?.Properties.Roles).toHaveLength(4);
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain("s3:GetObject");
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain(
      '"Fn::Split":["://",{"Ref":"SchemaUrl"}]',
    );
  });

  it("refuses a schema URL that is neither https nor s3, and a schema file that does not exist", () => {
    expect(() => SchemaSource.url("http://plain.example.com/schema.json")).toThrow(/https:\/\/ or s3:\/\//);
    expect(() => buildSync({ schema: SchemaSource.file("/nonexistent/schema.json") })).toThrow(
      /does not exist/,
    );
  });

  it("refuses a handler entry that does not exist", () => {
    expect(() => buildSync({ entries: { poller: "/nonexistent/poller.ts" } })).toThrow(/poller handler/);
    expect(FIXTURE_HANDLER).toMatch(/handler\.ts$/);
  });

  it("sets the OpenSearch mode and grants HTTP access to an Amazon OpenSearch domain", () => {
    const domainArn = "arn:aws:es:eu-west-1:111122223333:domain/search";
    const { template } = buildSync({ searchEngine: { kind: "aws-opensearch", domainArn } });
    for (const role of ["consumer", "bootstrap", "monitor"]) {
      const env = functionProps(template, role).Environment.Variables;
      expect(env.OPENSEARCH).toBe("true");
      expect(env.OPENSEARCH_AWS_HOSTED).toBe("true");
      const es = roleStatements(template, role).find((s) => actionsOf(s).includes("es:ESHttpPost"));
      expect(es?.Resource).toEqual([domainArn, `${domainArn}/*`]);
    }
    expect(roleStatements(template, "poller").some((s) => actionsOf(s).includes("es:ESHttpPost"))).toBe(
      false,
    );
  });

  it("sets OPENSEARCH alone for self-managed OpenSearch and nothing for Elasticsearch", () => {
    const os = buildSync({ searchEngine: { kind: "opensearch" } }).template;
    expect(functionProps(os, "consumer").Environment.Variables.OPENSEARCH).toBe("true");
    expect(functionProps(os, "consumer").Environment.Variables.OPENSEARCH_AWS_HOSTED).toBeUndefined();
    const es = buildSync().template;
    expect(functionProps(es, "consumer").Environment.Variables.OPENSEARCH).toBeUndefined();
  });
});
