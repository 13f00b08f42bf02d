import { Aws, Duration, RemovalPolicy } from "aws-cdk-lib";
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
  /** The poller's timeout, for the duration alarm. */
  readonly pollerTimeout: Duration;
  /** The consumer's timeout, for the duration alarm. */
  readonly consumerTimeout: Duration;
  /** Topic to notify; an encrypted one is created when absent. */
  readonly topic?: ITopic;
  readonly email?: string;
  /**
   * Topic for the critical alarms ({@link CRITICAL_ALARMS}); default the same topic as the rest.
   * Created (encrypted, like the other) when only `criticalEmail` is given.
   */
  readonly criticalTopic?: ITopic;
  /** An email address subscribed to the critical topic (a separate topic is created for it). */
  readonly criticalEmail?: string;
  /** Alarms to leave out, by id; an unknown id is an error. */
  readonly disabled?: readonly AlarmId[];
}

/** Every alarm the construct can create, by id. */
export const ALARM_IDS = [
  "DeadLetterQueueNotEmpty",
  "QueueOldestMessageAge",
  "PollerErrors",
  "PollerThrottles",
  "PollerDurationNearTimeout",
  "ConsumerErrors",
  "ConsumerThrottles",
  "ConsumerDurationNearTimeout",
  "RecordsFailing",
  "SchemaDrift",
  "ReplicaIdentityMissing",
  "DocumentsDiverged",
  "MonitorErrors",
  "MonitorCheckFailed",
  "AlertDeliveryFailed",
  "PollStalled",
  "SlotLag",
  "RetainedWalWarning",
  "RetainedWalCritical",
  "WalStatusLost",
] as const;

/** The id of one alarm. */
export type AlarmId = (typeof ALARM_IDS)[number];

/**
 * The alarms that mean WAL is piling up or changes are no longer followed: they go to the critical
 * topic when there is one.
 */
export const CRITICAL_ALARMS: readonly AlarmId[] = [
  "PollerErrors",
  "PollStalled",
  "RetainedWalCritical",
  "WalStatusLost",
  "MonitorCheckFailed",
  "ReplicaIdentityMissing",
];

/** The share of a function's timeout above which its longest run raises the duration alarm. */
export const NEAR_TIMEOUT = 0.9;

/** What one alarm watches, how it decides, and what its description tells the person paged. */
interface AlarmSpec {
  id: AlarmId;
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
  /** The topic of the critical alarms: {@link topic} unless a separate one was asked for. */
  readonly criticalTopic: ITopic;
  /** The alarms by id (`DeadLetterQueueNotEmpty`, `PollerErrors`, ...); disabled ones are absent. */
  readonly alarms: Partial<Record<AlarmId, Alarm>> = {};
  /** The email subscriptions, one per address given. */
  readonly emailSubscriptions: IConstruct[] = [];

  constructor(scope: Construct, id: string, props: SyncAlarmsProps) {
    super(scope, id);
    const unknown = (props.disabled ?? []).filter((a) => !(ALARM_IDS as readonly string[]).includes(a));
    if (unknown.length > 0)
      throw new Error(`disabledAlarms: unknown alarm ${unknown.join(", ")} (known: ${ALARM_IDS.join(", ")})`);
    this.topic = props.topic ?? this.createTopic("Topic", "slotsync alarms");
    this.criticalTopic =
      props.criticalTopic ??
      (props.criticalEmail ? this.createTopic("CriticalTopic", "slotsync critical alarms") : this.topic);
    if (props.email)
      this.emailSubscriptions.push(this.topic.addSubscription(new EmailSubscription(props.email)));
    if (props.criticalEmail)
      this.emailSubscriptions.push(
        this.criticalTopic.addSubscription(new EmailSubscription(props.criticalEmail)),
      );
    const action = new SnsAction(this.topic);
    const criticalAction = new SnsAction(this.criticalTopic);
    const disabled = new Set<string>(props.disabled ?? []);
    for (const spec of alarmSpecs(props)) {
      if (disabled.has(spec.id)) continue;
      const notify = CRITICAL_ALARMS.includes(spec.id) ? criticalAction : action;
      const alarm = new Alarm(this, spec.id, {
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.comparison,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.evaluationPeriods,
        treatMissingData: spec.missing,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      this.alarms[spec.id] = alarm;
    }
  }

  /**
   * An SNS topic encrypted with a customer managed key: CloudWatch cannot publish to a topic
   * encrypted with the AWS managed `aws/sns` key, so the key policy lets CloudWatch use this one.
   * `enforceSSL` gives the topic a policy of its own, which replaces SNS's default one: without an
   * Allow for CloudWatch next to its Deny, alarm notifications would be refused.
   */
  private createTopic(id: string, displayName: string): Topic {
    const key = new Key(this, `${id}Key`, {
      description: `slotsync: encrypts the topic "${displayName}"`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cloudwatch = new ServicePrincipal("cloudwatch.amazonaws.com");
    const fromThisAccount = { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } };
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [cloudwatch],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: fromThisAccount,
      }),
    );
    const topic = new Topic(this, id, { displayName, masterKey: key, enforceSSL: true });
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarms",
        principals: [cloudwatch],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: {
          ...fromThisAccount,
          ArnLike: {
            "aws:SourceArn": `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    return topic;
  }
}

/** {@link NEAR_TIMEOUT} of a timeout, in milliseconds (the unit of Lambda's Duration metric). */
function nearTimeoutMs(timeout: Duration): number {
  return Math.round(timeout.toMilliseconds() * NEAR_TIMEOUT);
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
        "Most poller ticks were throttled for 15 minutes: with pollerReservedConcurrency, runs overlap (POLLER_RUN_SECONDS at or above the schedule's rate, or cycles that take longer than the safety margin); without it, the account's concurrency is used up. Keep POLLER_RUN_SECONDS below the rate (the stack's default), or ask for a higher Lambda concurrency quota.",
    },
    {
      id: "PollerDurationNearTimeout",
      metric: props.poller.metricDuration({ statistic: "Maximum", period: fiveMinutes }),
      threshold: nearTimeoutMs(props.pollerTimeout),
      comparison: gt,
      evaluationPeriods: 3,
      missing: TreatMissingData.NOT_BREACHING,
      description: `The poller's longest run came within ${Math.round((1 - NEAR_TIMEOUT) * 100)} % of its ${props.pollerTimeout.toSeconds()} s timeout for 15 minutes: runs go on to their end inside transactions larger than one run (see the LargeTransactionInProgress metric and the "large transaction in progress" log lines: each run hands part of it on and the next goes on from there), or a cycle takes longer than the safety margin (a slow database or SQS). A run that times out keeps what it handed on; if no run gets past decoding the transaction, raise pollerTimeoutSeconds.`,
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
      id: "ConsumerThrottles",
      metric: sum(props.consumer.metricThrottles()),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 3,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "Consumer invocations were throttled for 15 minutes: the account's concurrency (or a reserved concurrency set on the consumer) is used up, so documents fall behind. Ask for a higher Lambda concurrency quota or lower consumerMaxConcurrency of other workloads.",
    },
    {
      id: "ConsumerDurationNearTimeout",
      metric: props.consumer.metricDuration({ statistic: "Maximum", period: fiveMinutes }),
      threshold: nearTimeoutMs(props.consumerTimeout),
      comparison: gt,
      evaluationPeriods: 3,
      missing: TreatMissingData.NOT_BREACHING,
      description: `The consumer's longest run came within ${Math.round((1 - NEAR_TIMEOUT) * 100)} % of its ${props.consumerTimeout.toSeconds()} s timeout for 15 minutes: a timed-out batch comes back whole and counts towards maxReceiveCount. Lower consumerBatchSize, raise consumerTimeoutSeconds, or look at the search engine's and the database's latency.`,
    },
    {
      id: "RecordsFailing",
      metric: serviceMetric("consumer", "RecordsFailed"),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 3,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "The consumer reported failed records in three 5-minute periods in a row: they come back from SQS and reach the DLQ after maxReceiveCount tries. The consumer's log names each key and its reason (mapping conflict, search engine refusing writes, document build error).",
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
      id: "ReplicaIdentityMissing",
      metric: serviceMetric("monitor", "ReplicaIdentityMissing").with({ statistic: "Maximum" }),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "A table the schema needs with REPLICA IDENTITY FULL has less (set back to DEFAULT, dropped and created again, or a new partition): a row deleted from it, or moved to another parent, leaves its former document stale. The monitor's log and its alert name each table and the statement: run ALTER TABLE <table> REPLICA IDENTITY FULL, then repair what changed meanwhile with `slotsync reconcile --rebuild --index <name>`.",
    },
    {
      id: "DocumentsDiverged",
      metric: serviceMetric("monitor", "DocumentsDiverged").with({ statistic: "Maximum" }),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "The monitor's sampled comparison (MONITOR_VERIFY_SAMPLE root rows and documents per index) found documents that differ from what the database builds, in two checks in a row: missing, extra (no root row) or different. Its log names the index and example ids. A long queue backlog (QueueOldestMessageAge) or dead letters explain some; see every difference with `slotsync verify --index <name> --all`, repair with `slotsync reconcile --index <name>` (add --rebuild for different documents).",
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
      id: "MonitorCheckFailed",
      metric: serviceMetric("monitor", "CheckFailed"),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 2,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "The monitor could not read the slot from the database in two checks in a row (database unreachable, TLS or password refused, privileges): nothing watches retained WAL meanwhile. Its log names the cause and the fix.",
    },
    {
      id: "AlertDeliveryFailed",
      metric: serviceMetric("monitor", "AlertDeliveryFailures"),
      threshold: 1,
      comparison: gte,
      evaluationPeriods: 1,
      missing: TreatMissingData.NOT_BREACHING,
      description:
        "The monitor could not deliver an alert to ALERT_WEBHOOK_URL or EventBridge: people relying on those channels were not told. The monitor's log names the channel and the error; check the webhook URL in the secret and the receiver.",
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
