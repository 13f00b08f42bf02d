import { Duration } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { Topic } from "aws-cdk-lib/aws-sns";
import { describe, expect, it } from "vitest";
import { ALARM_IDS, CRITICAL_ALARMS } from "../../../infra/construct";
import { buildSync, functionId, resourcesOf } from "./support";

const GIB = 1024 ** 3;

type AlarmProps = {
  AlarmActions: unknown[];
  OKActions: unknown[];
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  TreatMissingData: string;
  MetricName?: string;
  Namespace?: string;
  Dimensions?: Array<{ Name: string; Value: unknown }>;
  Metrics?: Array<{ Expression?: string; Period?: number }>;
  AlarmDescription: string;
};

function alarms(template: ReturnType<typeof buildSync>["template"]): Record<string, AlarmProps> {
  const out: Record<string, AlarmProps> = {};
  for (const [id, r] of Object.entries(resourcesOf(template, "AWS::CloudWatch::Alarm"))) {
    const name = /^SyncAlarms([A-Za-z]+?)[0-9A-F]{8}$/.exec(id)?.[1] ?? id;
    out[name] = r.Properties as unknown as AlarmProps;
  }
  return out;
}

describe("SlotsyncSync alarms", () => {
  it("creates every alarm, each notifying the topic on alarm and on recovery, with what to do", () => {
    const { template } = buildSync();
    const all = alarms(template);
    expect(Object.keys(all).sort()).toEqual([
      "AlertDeliveryFailed",
      "ConsumerDurationNearTimeout",
      "ConsumerErrors",
      "ConsumerThrottles",
      "DeadLetterQueueNotEmpty",
      "DocumentsDiverged",
      "MonitorCheckFailed",
      "MonitorErrors",
      "PollStalled",
      "PollerDurationNearTimeout",
      "PollerErrors",
      "PollerThrottles",
      "QueueOldestMessageAge",
      "RecordsFailing",
      "ReplicaIdentityMissing",
      "RetainedWalCritical",
      "RetainedWalWarning",
      "SchemaDrift",
      "SlotLag",
      "WalStatusLost",
    ]);
    expect(Object.keys(all).sort()).toEqual([...ALARM_IDS].sort());
    const topicId = Object.keys(resourcesOf(template, "AWS::SNS::Topic"))[0];
    for (const a of Object.values(all)) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.OKActions).toEqual([{ Ref: topicId }]);
      expect(a.AlarmDescription.length).toBeGreaterThan(60);
    }
  });

  it("alarms on the poller's SchemaDrift metric at once, naming the fix", () => {
    const drift = alarms(buildSync().template).SchemaDrift;
    expect(drift).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
    // A labelled metric is written as a one-entry Metrics list.
    expect(drift?.Metrics).toEqual([
      expect.objectContaining({
        MetricStat: {
          Metric: {
            Dimensions: [{ Name: "service", Value: "slotsync-poller" }],
            MetricName: "SchemaDrift",
            Namespace: "slotsync",
          },
          Period: 300,
          Stat: "Sum",
        },
      }),
    ]);
    expect(drift?.AlarmDescription).toContain("re-index");
  });

  it("alarms on the monitor's DocumentsDiverged and ReplicaIdentityMissing at the first confirmed value", () => {
    const all = alarms(buildSync().template);
    for (const [id, words] of [
      ["DocumentsDiverged", ["slotsync verify", "slotsync reconcile", "two checks in a row"]],
      ["ReplicaIdentityMissing", ["REPLICA IDENTITY FULL", "reconcile --rebuild"]],
    ] as const) {
      const alarm = all[id];
      expect(alarm, id).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      });
      expect(alarm?.Metrics).toEqual([
        expect.objectContaining({
          MetricStat: {
            Metric: {
              Dimensions: [{ Name: "service", Value: "slotsync-monitor" }],
              MetricName: id,
              Namespace: "slotsync",
            },
            Period: 300,
            Stat: "Maximum",
          },
        }),
      ]);
      for (const word of words) expect(alarm?.AlarmDescription, id).toContain(word);
    }
  });

  it("alarms on the first message in the DLQ and on old messages in the key queue", () => {
    const all = alarms(buildSync().template);
    const dlq = all.DeadLetterQueueNotEmpty;
    expect(dlq?.MetricName).toBe("ApproximateNumberOfMessagesVisible");
    expect(JSON.stringify(dlq?.Dimensions)).toContain("SyncQueuesDeadLetterQueue");
    expect(dlq?.Threshold).toBe(1);
    expect(dlq?.ComparisonOperator).toBe("GreaterThanOrEqualToThreshold");
    expect(dlq?.AlarmDescription).toContain("slotsync redrive");
    const age = all.QueueOldestMessageAge;
    expect(age?.MetricName).toBe("ApproximateAgeOfOldestMessage");
    expect(JSON.stringify(age?.Dimensions)).toContain("SyncQueuesQueue");
    expect(age?.Threshold).toBe(900);
  });

  it("alarms on poller errors and throttles, consumer and monitor errors from the functions' own metrics", () => {
    const { template } = buildSync();
    const all = alarms(template);
    const fnDimension = (role: string) => [
      { Name: "FunctionName", Value: { Ref: functionId(template, role) } },
    ];
    expect(all.PollerErrors).toMatchObject({ MetricName: "Errors", Dimensions: fnDimension("poller") });
    expect(all.PollerThrottles).toMatchObject({ MetricName: "Throttles", Dimensions: fnDimension("poller") });
    expect(all.ConsumerErrors).toMatchObject({ MetricName: "Errors", Dimensions: fnDimension("consumer") });
    expect(all.MonitorErrors).toMatchObject({ MetricName: "Errors", Dimensions: fnDimension("monitor") });
    for (const a of [all.PollerErrors, all.ConsumerErrors, all.MonitorErrors]) {
      expect(a).toMatchObject({ EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 1 });
    }
  });

  it("reads the slot metrics of the EMF namespace slotsync through the Slot dimension", () => {
    const all = alarms(buildSync().template);
    const query = (a: AlarmProps | undefined) => a?.Metrics?.[0]?.Expression;
    expect(query(all.PollStalled)).toBe(
      "SELECT MAX(SecondsSinceLastPoll) FROM slotsync WHERE Slot = 'slotsync'",
    );
    expect(query(all.SlotLag)).toBe(
      "SELECT MAX(ConfirmedFlushLagBytes) FROM slotsync WHERE Slot = 'slotsync'",
    );
    expect(query(all.RetainedWalWarning)).toBe(
      "SELECT MAX(RetainedWalBytes) FROM slotsync WHERE Slot = 'slotsync'",
    );
    expect(query(all.RetainedWalCritical)).toBe(query(all.RetainedWalWarning));
    expect(query(all.WalStatusLost)).toBe("SELECT MAX(WalStatusLevel) FROM slotsync WHERE Slot = 'slotsync'");
    expect(all.PollStalled?.Metrics?.[0]?.Period).toBe(300);
  });

  it("uses the default thresholds: 12/15 GiB of WAL, 300 s stall, 1 GiB lag, WAL status lost >= 3", () => {
    const all = alarms(buildSync().template);
    expect(all.RetainedWalWarning?.Threshold).toBe(12 * GIB);
    expect(all.RetainedWalCritical?.Threshold).toBe(15 * GIB);
    expect(all.PollStalled?.Threshold).toBe(300);
    expect(all.SlotLag?.Threshold).toBe(GIB);
    expect(all.WalStatusLost).toMatchObject({
      Threshold: 3,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("counts a silent monitor as a stalled poll, but not as WAL trouble", () => {
    const all = alarms(buildSync().template);
    expect(all.PollStalled?.TreatMissingData).toBe("breaching");
    for (const id of [
      "RetainedWalWarning",
      "RetainedWalCritical",
      "WalStatusLost",
      "DeadLetterQueueNotEmpty",
    ]) {
      expect(all[id]?.TreatMissingData).toBe("notBreaching");
    }
  });

  it("takes other thresholds and slot, and passes the WAL ones to the functions too", () => {
    const { template } = buildSync({
      slotName: "orders_sync",
      thresholds: {
        walWarningGb: 40,
        walCriticalGb: 50,
        maxSecondsSinceLastPoll: 600,
        maxQueueAgeSeconds: 120,
      },
    });
    const all = alarms(template);
    expect(all.RetainedWalWarning?.Threshold).toBe(40 * GIB);
    expect(all.RetainedWalCritical?.Threshold).toBe(50 * GIB);
    expect(all.PollStalled?.Threshold).toBe(600);
    expect(all.QueueOldestMessageAge?.Threshold).toBe(120);
    expect(all.WalStatusLost?.Metrics?.[0]?.Expression).toContain("Slot = 'orders_sync'");
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          SLOTSYNC_SLOT: "orders_sync",
          WAL_WARNING_THRESHOLD_GB: "40",
          WAL_CRITICAL_THRESHOLD_GB: "50",
        }),
      },
    });
  });

  it("refuses a warning threshold at or above the critical one, and a slot name PostgreSQL would refuse", () => {
    expect(() => buildSync({ thresholds: { walWarningGb: 15, walCriticalGb: 15 } })).toThrow(/walWarningGb/);
    expect(() => buildSync({ slotName: "Bad-Slot" })).toThrow(/slotName/);
  });
});

describe("SlotsyncSync alarm topic", () => {
  it("encrypts the topic with a rotated customer managed key CloudWatch may use, and refuses plain HTTP", () => {
    const { template } = buildSync();
    const keyId = Object.keys(resourcesOf(template, "AWS::KMS::Key"))[0];
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] } });
    template.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          }),
        ]),
      },
    });
    const topicPolicy = Object.values(resourcesOf(template, "AWS::SNS::TopicPolicy"))[0];
    expect(JSON.stringify(topicPolicy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it("subscribes an email address when given, and nothing otherwise", () => {
    const without = buildSync().template;
    expect(Object.keys(resourcesOf(without, "AWS::SNS::Subscription"))).toHaveLength(0);
    const { template } = buildSync({ alarmEmail: "ops@example.com" });
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
  });

  it("notifies a topic of yours instead of creating one", () => {
    const { template } = buildSync({}, (stack) => ({
      alarmTopic: Topic.fromTopicArn(stack, "Ops", "arn:aws:sns:eu-west-1:111122223333:ops"),
    }));
    expect(Object.keys(resourcesOf(template, "AWS::SNS::Topic"))).toHaveLength(0);
    expect(Object.keys(resourcesOf(template, "AWS::KMS::Key"))).toHaveLength(0);
    for (const a of Object.values(alarms(template))) {
      expect(a.AlarmActions).toEqual(["arn:aws:sns:eu-west-1:111122223333:ops"]);
    }
  });
});

describe("SlotsyncSync dashboard", () => {
  it("shows throughput, lag, retained WAL, queue depth and age, and the alarms", () => {
    const { template } = buildSync();
    const dashboards = Object.values(resourcesOf(template, "AWS::CloudWatch::Dashboard"));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const metric of ["Transactions", "Changes", "KeysSent", "DocumentsIndexed", "DocumentsDeleted"]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain('\\"service\\",\\"slotsync-poller\\"');
    expect(body).toContain('\\"service\\",\\"slotsync-consumer\\"');
    for (const query of ["SecondsSinceLastPoll", "ConfirmedFlushLagBytes", "RetainedWalBytes"]) {
      expect(body).toContain(`SELECT MAX(${query}) FROM slotsync WHERE Slot = 'slotsync'`);
    }
    for (const metric of [
      "ApproximateNumberOfMessagesVisible",
      "ApproximateNumberOfMessagesNotVisible",
      "ApproximateAgeOfOldestMessage",
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('\\"type\\":\\"alarm\\"');
  });

  it("shows the monitor's correctness numbers: documents diverged, tables lacking replica identity, drift", () => {
    const { template } = buildSync();
    const body = JSON.stringify(
      Object.values(resourcesOf(template, "AWS::CloudWatch::Dashboard"))[0]?.Properties.DashboardBody,
    );
    expect(body).toContain("Index correctness");
    for (const metric of ["DocumentsDiverged", "ReplicaIdentityMissing"]) {
      expect(body).toContain(`\\"${metric}\\",\\"service\\",\\"slotsync-monitor\\"`);
    }
    expect(body).toContain('\\"SchemaDrift\\",\\"service\\",\\"slotsync-poller\\"');
  });

  it("has a search engine row: bulk latency, chunk size in use, 429 rate and records sent again", () => {
    const { template } = buildSync();
    const dashboards = Object.values(resourcesOf(template, "AWS::CloudWatch::Dashboard"));
    // The body is a Fn::Join of JSON text and tokens (region, ARNs): put placeholders in, then parse.
    const joined = dashboards[0]?.Properties.DashboardBody as { "Fn::Join": [string, unknown[]] };
    const parts = joined["Fn::Join"][1];
    const body = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "token")).join("")) as {
      widgets: { y: number; properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const row = body.widgets.filter((w) => w.properties.title?.startsWith("Search engine:"));
    expect(row.map((w) => w.properties.title)).toEqual([
      "Search engine: bulk latency (ms) and chunk size",
      "Search engine: pushback",
    ]);
    expect(new Set(row.map((w) => w.y)).size).toBe(1); // one row
    const shown = row.flatMap((w) =>
      (w.properties.metrics ?? []).map((m) => {
        const [namespace, name, dimension, service, options] = m as [
          string,
          string,
          string,
          string,
          { stat?: string },
        ];
        // A graph's default statistic is Average, which the body then leaves out.
        return `${namespace}/${name}/${dimension}=${service}/${options.stat ?? "Average"}`;
      }),
    );
    expect(shown).toEqual([
      "slotsync/BulkLatency/service=slotsync-consumer/Average",
      "slotsync/BulkLatency/service=slotsync-consumer/Maximum",
      "slotsync/BulkChunkSize/service=slotsync-consumer/Minimum",
      "slotsync/BulkChunkSize/service=slotsync-consumer/Average",
      "slotsync/BulkThrottleRate/service=slotsync-consumer/Average",
      "slotsync/RecordsDeferred/service=slotsync-consumer/Sum",
    ]);
  });
});

describe("SlotsyncSync alarm delivery", () => {
  it("lets CloudWatch publish to the topic whose policy enforceSSL replaced (and still refuses plain HTTP)", () => {
    const { template } = buildSync();
    const topicId = Object.keys(resourcesOf(template, "AWS::SNS::Topic"))[0];
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: { Ref: topicId },
            Condition: Match.objectLike({ StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } }),
          }),
        ]),
      },
    });
  });

  it("alarms on consumer throttles, runs near the timeout, failing records, failed checks and undelivered alerts", () => {
    const { template } = buildSync({ consumer: { timeout: Duration.seconds(100) } });
    const all = alarms(template);
    expect(all.ConsumerThrottles).toMatchObject({ MetricName: "Throttles" });
    expect(all.ConsumerDurationNearTimeout).toMatchObject({ MetricName: "Duration", Threshold: 90_000 });
    expect(all.PollerDurationNearTimeout).toMatchObject({ MetricName: "Duration", Threshold: 810_000 });
    const emf = (a: AlarmProps | undefined) =>
      (a?.Metrics?.[0] as { MetricStat?: { Metric: unknown } } | undefined)?.MetricStat?.Metric;
    expect(emf(all.RecordsFailing)).toEqual({
      Dimensions: [{ Name: "service", Value: "slotsync-consumer" }],
      MetricName: "RecordsFailed",
      Namespace: "slotsync",
    });
    expect(emf(all.MonitorCheckFailed)).toMatchObject({ MetricName: "CheckFailed" });
    expect(emf(all.AlertDeliveryFailed)).toMatchObject({
      Dimensions: [{ Name: "service", Value: "slotsync-monitor" }],
      MetricName: "AlertDeliveryFailures",
    });
  });

  it("leaves out the alarms it is told to, and names an unknown one", () => {
    const all = alarms(buildSync({ disabledAlarms: ["SlotLag", "PollerThrottles"] }).template);
    expect(all.SlotLag).toBeUndefined();
    expect(all.PollerThrottles).toBeUndefined();
    expect(Object.keys(all)).toHaveLength(ALARM_IDS.length - 2);
    expect(() => buildSync({ disabledAlarms: ["SlotLagg" as "SlotLag"] })).toThrow(/unknown alarm SlotLagg/);
  });

  it("sends the critical alarms to a topic of their own, with its own subscription, when asked", () => {
    const { template } = buildSync({
      alarmEmail: "team@example.com",
      criticalAlarmEmail: "oncall@example.com",
    });
    const topics = Object.entries(resourcesOf(template, "AWS::SNS::Topic"));
    expect(topics).toHaveLength(2);
    const criticalId = topics.find(([, t]) => t.Properties.DisplayName === "slotsync critical alarms")?.[0];
    const normalId = topics.find(([, t]) => t.Properties.DisplayName === "slotsync alarms")?.[0];
    for (const [name, a] of Object.entries(alarms(template))) {
      const expected = CRITICAL_ALARMS.includes(name as (typeof CRITICAL_ALARMS)[number])
        ? criticalId
        : normalId;
      expect(a.AlarmActions, name).toEqual([{ Ref: expected }]);
    }
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Endpoint: "oncall@example.com",
      TopicArn: { Ref: criticalId },
    });
    expect(Object.keys(resourcesOf(template, "AWS::SNS::TopicPolicy"))).toHaveLength(2);
  });
});
