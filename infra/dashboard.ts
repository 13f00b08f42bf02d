import { Duration } from "aws-cdk-lib";
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { GIB, serviceMetric, slotMetric } from "./metrics";
import type { AlarmThresholds } from "./props";

/** Properties of {@link SyncDashboard}. */
export interface SyncDashboardProps {
  readonly poller: IFunction;
  readonly consumer: IFunction;
  readonly monitor: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly slotName: string;
  readonly thresholds: Required<AlarmThresholds>;
  readonly alarms: Alarm[];
  readonly dashboardName?: string;
}

const WIDTH = 12;
const HEIGHT = 6;

/** One CloudWatch dashboard: alarm states, throughput, lag, retained WAL, the queues and the functions. */
export class SyncDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SyncDashboardProps) {
    super(scope, id);
    const slot = props.slotName;
    const t = props.thresholds;
    const minute = Duration.minutes(1);
    const minuteSum = { period: minute };
    this.dashboard = new Dashboard(this, "Dashboard", {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# slotsync, slot \`${slot}\`\nKeys flow poller → queue → consumers. Each alarm's description says what to do.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: "Alarms", alarms: props.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Poller throughput (per minute)",
        left: [
          serviceMetric("poller", "Transactions", minuteSum),
          serviceMetric("poller", "Changes", minuteSum),
          serviceMetric("poller", "KeysSent", minuteSum),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: "Consumer throughput (per minute)",
        left: [
          serviceMetric("consumer", "DocumentsIndexed", minuteSum),
          serviceMetric("consumer", "DocumentsDeleted", minuteSum),
          serviceMetric("consumer", "VersionConflicts", {
            ...minuteSum,
            label: "VersionConflicts (stale, ok)",
          }),
          serviceMetric("consumer", "RecordsDeadLettered", minuteSum),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Sync lag",
        left: [slotMetric("SecondsSinceLastPoll", slot, { label: "Seconds since last poll" })],
        right: [slotMetric("ConfirmedFlushLagBytes", slot, { label: "Confirmed flush lag (bytes)" })],
        leftAnnotations: [{ value: t.maxSecondsSinceLastPoll, label: "stall alarm" }],
        width: WIDTH,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: "Retained WAL (bytes)",
        left: [slotMetric("RetainedWalBytes", slot, { label: "Retained WAL" })],
        leftAnnotations: [
          annotation(t.walWarningGb * GIB, `warning ${t.walWarningGb} GiB`, "#ff7f0e"),
          annotation(t.walCriticalGb * GIB, `critical ${t.walCriticalGb} GiB`, "#d62728"),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Queue depth",
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period: minute, label: "Visible" }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period: minute, label: "In flight" }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: minute,
            label: "Dead letters",
          }),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: "Oldest message age (s)",
        left: [props.queue.metricApproximateAgeOfOldestMessage({ period: minute, label: "Key queue" })],
        leftAnnotations: [{ value: t.maxQueueAgeSeconds, label: "age alarm" }],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    // Search engine: how the engine answers the consumers' bulk requests (adaptive sizing,
    // docs/operations/slow-sinks.md). Rising latency with a falling chunk size is a slow engine;
    // a throttle rate above zero is an engine pushing back.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Search engine: bulk latency (ms) and chunk size",
        left: [
          serviceMetric("consumer", "BulkLatency", {
            period: minute,
            statistic: "Average",
            label: "Bulk latency (mean)",
          }),
          serviceMetric("consumer", "BulkLatency", {
            period: minute,
            statistic: "Maximum",
            label: "Bulk latency (max)",
          }),
        ],
        right: [
          serviceMetric("consumer", "BulkChunkSize", {
            period: minute,
            statistic: "Minimum",
            label: "Chunk size (smallest)",
          }),
          serviceMetric("consumer", "BulkChunkSize", {
            period: minute,
            statistic: "Average",
            label: "Chunk size (mean)",
          }),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: "Search engine: pushback",
        left: [
          serviceMetric("consumer", "BulkThrottleRate", {
            period: minute,
            statistic: "Average",
            label: "Requests answered 429 (%)",
          }),
        ],
        right: [
          serviceMetric("consumer", "RecordsDeferred", {
            ...minuteSum,
            label: "Records sent again (deadline, 429)",
          }),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Index correctness (monitor's sampled verify)",
        left: [
          serviceMetric("monitor", "DocumentsDiverged", {
            label: "Documents diverged (confirmed twice)",
          }).with({ statistic: "Maximum" }),
          serviceMetric("monitor", "ReplicaIdentityMissing", {
            label: "Tables lacking REPLICA IDENTITY FULL",
          }).with({ statistic: "Maximum" }),
        ],
        leftAnnotations: [{ value: 1, label: "alarm", color: "#d62728" }],
        width: WIDTH,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: "Schema drift (poller)",
        left: [serviceMetric("poller", "SchemaDrift", { label: "Schema drift" })],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Function errors and throttles",
        left: [
          props.poller.metricErrors({ period: minute, label: "Poller errors" }),
          props.poller.metricThrottles({ period: minute, label: "Poller throttles" }),
          props.consumer.metricErrors({ period: minute, label: "Consumer errors" }),
          props.consumer.metricThrottles({ period: minute, label: "Consumer throttles" }),
          props.monitor.metricErrors({ period: minute, label: "Monitor errors" }),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: "Duration (p95, ms)",
        left: [
          props.poller.metricDuration({ period: minute, statistic: "p95", label: "Poller" }),
          props.consumer.metricDuration({ period: minute, statistic: "p95", label: "Consumer" }),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
  }
}

function annotation(value: number, label: string, color: string): HorizontalAnnotation {
  return { value, label, color };
}
