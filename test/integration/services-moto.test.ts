import { randomBytes } from "node:crypto";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getServices } from "../support/services";

// moto's server mode for the Amazon-only APIs the monitor uses: EventBridge (a rule on a custom bus
// delivering to a queue — moto delivers only to its own SQS, so the queue lives in moto too) and
// CloudWatch (metrics and alarms). moto 5.2 does not implement TestEventPattern (it answers 200 with an
// empty body), so pattern matching is proven by what the rule delivers and what it does not.

const SUFFIX = randomBytes(4).toString("hex");
const DEADLINE_MS = 20_000;

function awsConfig() {
  const { endpoint, region } = getServices().moto;
  return { endpoint, region, credentials: { accessKeyId: "x", secretAccessKey: "x" } };
}

describe("EventBridge (moto) through @aws-sdk/client-eventbridge", () => {
  const bus = `slotsync-svc-bus-${SUFFIX}`;
  const rule = `slotsync-svc-rule-${SUFFIX}`;
  const pattern = { source: ["slotsync.monitor"], "detail-type": ["SlotsyncAlert"] };
  let events: EventBridgeClient;
  let sqs: SQSClient;
  let queueUrl: string | undefined;
  let ruleCreated = false;

  beforeAll(() => {
    events = new EventBridgeClient(awsConfig());
    sqs = new SQSClient(awsConfig());
  });

  afterAll(async () => {
    if (ruleCreated) {
      await events.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ["queue"] }));
      await events.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus }));
    }
    await events?.send(new DeleteEventBusCommand({ Name: bus }));
    if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    events?.destroy();
    sqs?.destroy();
  });

  it("delivers a matching PutEvents entry to the rule's SQS target, and not a non-matching one", async () => {
    const created = await events.send(new CreateEventBusCommand({ Name: bus }));
    expect(created.EventBusArn).toContain(`event-bus/${bus}`);

    const queue = await sqs.send(new CreateQueueCommand({ QueueName: `slotsync-svc-events-${SUFFIX}` }));
    queueUrl = queue.QueueUrl;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
    );
    const queueArn = attrs.Attributes?.QueueArn;
    expect(queueArn).toMatch(/^arn:aws:sqs:/);

    await events.send(
      new PutRuleCommand({ Name: rule, EventBusName: bus, EventPattern: JSON.stringify(pattern) }),
    );
    ruleCreated = true;
    const targets = await events.send(
      new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: "queue", Arn: queueArn }] }),
    );
    expect(targets.FailedEntryCount).toBe(0);
    const rules = await events.send(new ListRulesCommand({ EventBusName: bus }));
    expect(rules.Rules?.map((r) => [r.Name, r.State])).toEqual([[rule, "ENABLED"]]);
    const listed = await events.send(new ListTargetsByRuleCommand({ Rule: rule, EventBusName: bus }));
    expect(listed.Targets?.map((t) => t.Arn)).toEqual([queueArn]);

    // The non-matching entry goes first: once the matching one arrived, the other had its chance.
    const detail = { slot: `slot_${SUFFIX}`, level: "critical", walBytes: 123 };
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: bus, Source: "someone.else", DetailType: "SlotsyncAlert", Detail: "{}" },
          {
            EventBusName: bus,
            Source: "slotsync.monitor",
            DetailType: "SlotsyncAlert",
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    expect(put.Entries?.every((e) => e.EventId && !e.ErrorCode)).toBe(true);

    const received: Message[] = [];
    const deadline = Date.now() + DEADLINE_MS;
    while (received.length === 0 && Date.now() < deadline) {
      const res = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      received.push(...(res.Messages ?? []));
    }
    expect(received).toHaveLength(1);
    const event = JSON.parse(received[0]?.Body ?? "{}") as Record<string, unknown>;
    expect(event).toMatchObject({ source: "slotsync.monitor", "detail-type": "SlotsyncAlert", detail });
    expect(event.id).toBe(put.Entries?.[1]?.EventId);
  });
});

describe("CloudWatch (moto) through @aws-sdk/client-cloudwatch", () => {
  const namespace = `Slotsync/ServicesTest/${SUFFIX}`;
  const alarm = `slotsync-svc-alarm-${SUFFIX}`;
  const dimensions = [{ Name: "Slot", Value: `slot_${SUFFIX}` }];
  let cw: CloudWatchClient;

  beforeAll(() => {
    cw = new CloudWatchClient(awsConfig());
  });

  afterAll(async () => {
    await cw?.send(new DeleteAlarmsCommand({ AlarmNames: [alarm] }));
    cw?.destroy();
  });

  it("stores metric data that ListMetrics and GetMetricData return", async () => {
    const now = new Date();
    await cw.send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: [
          {
            MetricName: "RetainedWalBytes",
            Dimensions: dimensions,
            Timestamp: now,
            Value: 100,
            Unit: "Bytes",
          },
          {
            MetricName: "RetainedWalBytes",
            Dimensions: dimensions,
            Timestamp: now,
            Value: 300,
            Unit: "Bytes",
          },
          { MetricName: "LagSeconds", Dimensions: dimensions, Timestamp: now, Value: 4, Unit: "Seconds" },
        ],
      }),
    );

    const listed = await cw.send(new ListMetricsCommand({ Namespace: namespace }));
    expect(listed.Metrics?.map((m) => m.MetricName).sort()).toEqual(["LagSeconds", "RetainedWalBytes"]);
    expect(listed.Metrics?.[0]?.Dimensions).toEqual(dimensions);

    const data = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 10 * 60_000),
        EndTime: new Date(now.getTime() + 10 * 60_000),
        MetricDataQueries: ["Sum", "Maximum"].map((stat) => ({
          Id: stat.toLowerCase(),
          MetricStat: {
            Metric: { Namespace: namespace, MetricName: "RetainedWalBytes", Dimensions: dimensions },
            Period: 60,
            Stat: stat,
          },
        })),
      }),
    );
    const byId = Object.fromEntries((data.MetricDataResults ?? []).map((r) => [r.Id, r.Values]));
    expect(byId.sum).toEqual([400]);
    expect(byId.maximum).toEqual([300]);
  });

  it("creates an alarm that DescribeAlarms returns, and follows SetAlarmState", async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm,
        Namespace: namespace,
        MetricName: "RetainedWalBytes",
        Dimensions: dimensions,
        Statistic: "Maximum",
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 5 * 1024 ** 3,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      }),
    );
    const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [alarm] }));
    expect(described.MetricAlarms).toHaveLength(1);
    expect(described.MetricAlarms?.[0]).toMatchObject({
      AlarmName: alarm,
      Namespace: namespace,
      MetricName: "RetainedWalBytes",
      Threshold: 5 * 1024 ** 3,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Dimensions: dimensions,
    });

    await cw.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: "ALARM", StateReason: "test" }));
    const inAlarm = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [alarm], StateValue: "ALARM" }));
    expect(inAlarm.MetricAlarms?.map((a) => a.AlarmName)).toEqual([alarm]);
  });
});
