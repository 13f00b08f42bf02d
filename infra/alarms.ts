import { Duration, RemovalPolicy } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  type Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { type ITopic, Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct, type IConstruct } from "constructs";
import { GIB, serviceMetric, slotMetric } from "./metrics";
import type { AlarmThresholds } from "./props";

/** Properties of {@link SyncAlarms}. */
export interface SyncAlarmsProps {
  readonly poller: IFunction;
  readonly consumer: IFunction;
  readonly monitor: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly slotName: string;
  readonly thresholds: Required<AlarmThresholds>;
  /** Topic to notify; an encrypted one is created when absent. */
  readonly topic?: ITopic;
  readonly email?: string;
}

/** What one alarm watches, how it decides, and what its description tells the person paged. */
interface AlarmSpec {
  id: string;
  metric: IMetric;
  threshold: number;
  comparison: ComparisonOperator;
  evaluationPeriods: number;
  missing: TreatMissingData;
  description: string;
}

/**
 * The alarms, each with what it means and what to do in its description, and the topic they
 * notify (on alarm and on recovery). docs/operations/alarms.md says the same in more words.
 */
export class SyncAlarms extends Construct {
  readonly topic: ITopic;
  /** The alarms by id (`DeadLetterQueueNotEmpty`, `PollerErrors`, ...). */
  readonly alarms: Record<string, Alarm> = {};
  /** The email subscription, when an address was given. */
  readonly emailSubscription?: IConstruct;

  constructor(scope: Construct, id: string, props: SyncAlarmsProps) {
    super(scope, id);
    this.topic = props.topic ?? this.createTopic();
    if (props.email) this.emailSubscription = this.topic.addSubscription(new EmailSubscription(props.email));
    const action = new SnsAction(this.topic);
    for (const spec of alarmSpecs(props)) {
      const alarm = new Alarm(this, spec.id, {
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.comparison,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.evaluationPeriods,
        treatMissingData: spec.missing,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms[spec.id] = alarm;
    }
  }

  /**
   * An SNS topic encrypted with a customer managed key: CloudWatch cannot publish to a topic
   * encrypted with the AWS managed `aws/sns` key, so the key policy lets CloudWatch use this one.
   */
  private createTopic(): Topic {
    const key = new Key(this, "TopicKey", {
      description: "slotsync: encrypts the alarm topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    return new Topic(this, "Topic", { displayName: "slotsync alarms", masterKey: key, enforceSSL: true });
  }
}

function alarmSpecs(props: SyncAlarmsProps): AlarmSpec[] {
  const t = props.thresholds;
  const slot = props.slotName;
  const fiveMinutes = Duration.minutes(5);
  const gte = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
  const gt = ComparisonOperator.GREATER_THAN_THRESHOLD;
  const sum = (m: Metric) => m.with({ statistic: "Sum", period: fiveMinutes });
  return [
    {
      id: "DeadLetterQueueNotEmpty",
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: "Maximum",
        period: fiveMinutes,
      }),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "Messages reached the dead-letter queue: keys whose documents were not written (a key whose document cannot be built, a rejected document, an unknown message version, or a record that failed maxReceiveCount times). Each carries its reason in the slotsync-reason attribute; count them by reason with `slotsync redrive --dry-run` (SQS_QUEUE_URL and SQS_DLQ_URL from the stack outputs). Fix the cause, then move them back with `slotsync redrive` (--reason TEXT for some only), or the SQS console's Start DLQ redrive. Letters are kept 14 days from their first enqueue.",
    },
    {
      id: "QueueOldestMessageAge",
      metric: props.queue.metricApproximateAgeOfOldestMessage({ statistic: "Maximum", period: fiveMinutes }),
      threshold: t.maxQueueAgeSeconds,
      comparison: gt,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description: `The oldest key waited more than ${t.maxQueueAgeSeconds} s: consumers are failing or too slow. Check the consumer's errors and logs and the search engine's health; raise consumerMaxConcurrency or consumerBatchSize if it is only slow.`,
    },
    {
      id: "PollerErrors",
      metric: sum(props.poller.metricErrors()),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 2,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "The poller failed in two 5-minute periods in a row: nothing is being handed on and WAL is being retained. Its log names the problem and the fix (configuration, missing slot: run bootstrap, lost slot: re-bootstrap, privileges, Upstash or SQS unreachable).",
    },
    {
      id: "PollerThrottles",
      metric: sum(props.poller.metricThrottles()),
      threshold: 3,
      comparison: gte,
      evaluationPeriods: 3,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "Most poller ticks were throttled for 15 minutes: runs overlap (POLLER_RUN_SECONDS at or above the schedule's rate, or cycles that take longer than the safety margin) or reserved concurrency was removed. Keep POLLER_RUN_SECONDS below the rate (the stack's default) and reserved concurrency 1.",
    },
    {
      id: "ConsumerErrors",
      metric: sum(props.consumer.metricErrors()),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 2,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "Consumer invocations failed as a whole in two 5-minute periods in a row (bad configuration, secret unreadable, database or search engine unreachable, timeouts). Their batches come back and end in the DLQ after maxReceiveCount tries; read the consumer's log.",
    },
    {
      id: "SchemaDrift",
      metric: serviceMetric("poller", "SchemaDrift"),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        'A table or column the schema uses was dropped or renamed, or its type changed. The poller stopped without advancing the slot (nothing is lost; WAL is retained) and blocked records wait with a long back-off. The poller\'s log and the monitor\'s `schema drift` alert name the index, table and column. Update schema.json and deploy it, then re-index with no downtime (bootstrap Lambda: {"action":"start","reindex":true}).',
    },
    {
      id: "MonitorErrors",
      metric: sum(props.monitor.metricErrors()),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 2,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "The monitor could not check the database twice in a row, so WAL and lag are not being watched. Its log says why (database unreachable, privileges, secret); the WAL alarms stay silent until it works again.",
    },
    {
      id: "PollStalled",
      metric: slotMetric("SecondsSinceLastPoll", slot),
      threshold: t.maxSecondsSinceLastPoll,
      comparison: gt,
      evaluationPeriods: 1,
      missing: TreatMissingData.BREACHING,
      description: `No successful poll of slot ${slot} for more than ${t.maxSecondsSinceLastPoll} s, or the monitor stopped reporting (missing data counts as stalled). Expected before the first bootstrap. Otherwise check that the poller schedule is enabled and the PollerErrors alarm, then the monitor's log.`,
    },
    {
      id: "SlotLag",
      metric: slotMetric("ConfirmedFlushLagBytes", slot),
      threshold: t.maxSlotLagGb * GIB,
      comparison: gt,
      evaluationPeriods: 3,
      missing: TreatMissingData.NOT_BREACHING,
      description: `Slot ${slot} is more than ${t.maxSlotLagGb} GiB of WAL behind for 15 minutes: the poller is not keeping up or not advancing. Check PollerErrors and the poller's log (a huge transaction takes several cycles); a shorter schedule or more poller memory helps a sustained write load.`,
    },
    {
      id: "RetainedWalWarning",
      metric: slotMetric("RetainedWalBytes", slot),
      threshold: t.walWarningGb * GIB,
      comparison: gt,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description: `Slot ${slot} retains more than ${t.walWarningGb} GiB of WAL. The database disk fills if this keeps growing: find why the slot does not advance (PollStalled, PollerErrors) before it reaches the critical level.`,
    },
    {
      id: "RetainedWalCritical",
      metric: slotMetric("RetainedWalBytes", slot),
      threshold: t.walCriticalGb * GIB,
      comparison: gt,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description: `Slot ${slot} retains more than ${t.walCriticalGb} GiB of WAL: act now. Fix the poller; if the disk is about to fill, drop the slot (SELECT pg_drop_replication_slot('${slot}')) and re-run bootstrap, which rebuilds the index.`,
    },
    {
      id: "WalStatusLost",
      metric: slotMetric("WalStatusLevel", slot),
      threshold: 3,
      comparison: gte,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description: `Slot ${slot}'s WAL status is "lost": PostgreSQL removed WAL the slot still needed (max_slot_wal_keep_size), so changes were skipped and the index can no longer be trusted. Drop the slot and re-run bootstrap to rebuild the index.`,
    },
  ];
}
