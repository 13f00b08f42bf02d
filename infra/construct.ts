import { Duration, Tags } from "aws-cdk-lib";
import type { Alarm, Dashboard } from "aws-cdk-lib/aws-cloudwatch";
import type { SecurityGroup } from "aws-cdk-lib/aws-ec2";
import type { Rule } from "aws-cdk-lib/aws-events";
import { Schedule } from "aws-cdk-lib/aws-events";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { type AlarmId, SyncAlarms } from "./alarms";
import { SyncDashboard } from "./dashboard";
import { DEFAULT_ENTRIES, REPO_ROOT, SyncFunctions } from "./functions";
import { SLOT_NAME } from "./metrics";
import { acknowledgeFindings } from "./nag";
import { DEFAULT_CONSUMER, DEFAULT_THRESHOLDS, type SlotsyncSyncProps } from "./props";
import { SyncQueues } from "./queue";
import { createSecret } from "./secrets";

export {
  ALARM_IDS,
  type AlarmId,
  CRITICAL_ALARMS,
  NEAR_TIMEOUT,
  SyncAlarms,
  type SyncAlarmsProps,
} from "./alarms";
export { SyncDashboard, type SyncDashboardProps } from "./dashboard";
export {
  BUNDLED_SCHEMA_PATH,
  DEFAULT_ENTRIES,
  defaultPollerTimeout,
  MONITOR_SCHEDULE,
  pollerRunSeconds,
  SyncFunctions,
  type SyncFunctionsProps,
} from "./functions";
export {
  type AlarmThresholds,
  type ConsumerSettings,
  DEFAULT_CONSUMER,
  DEFAULT_THRESHOLDS,
  type FunctionRole,
  type PollerMode,
  SchemaSource,
  type SearchEngine,
  type SlotsyncSyncProps,
} from "./props";
export { SyncQueues, type SyncQueuesProps, VISIBILITY_TIMEOUT_FACTOR } from "./queue";
export {
  assertNoSecretInEnvironment,
  importSecret,
  SECRET_ENV_NAME,
  SECRET_KEYS,
  SECRET_PLACEHOLDER_TEMPLATE,
  type SecretReference,
} from "./secrets";

/** The default poll schedule. */
export const DEFAULT_POLL_SCHEDULE = Schedule.rate(Duration.minutes(1));
/** The default replication slot name (`SLOTSYNC_SLOT`). */
export const DEFAULT_SLOT_NAME = "slotsync";

/**
 * Everything slotsync runs on in AWS, for use in your own CDK app: the key queue and its DLQ, the
 * poller (scheduled), consumer (SQS event source), bootstrap (manual) and monitor (scheduled)
 * functions, the secret, alarms with an SNS topic, and a dashboard.
 *
 * ```ts
 * new SlotsyncSync(stack, "Sync", { schema: SchemaSource.file("schema.json") });
 * ```
 */
export class SlotsyncSync extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** The secret the functions read at cold start (`SLOTSYNC_SECRET_ARN`). */
  readonly secret: ISecret;
  readonly poller: LambdaFunction;
  readonly consumer: LambdaFunction;
  readonly bootstrap: LambdaFunction;
  readonly monitor: LambdaFunction;
  readonly pollerRule: Rule;
  /** The functions' security group, when a VPC was given without security groups. */
  readonly securityGroup?: SecurityGroup;
  readonly alarmTopic: ITopic;
  /** The topic of the critical alarms: {@link alarmTopic} unless a separate one was asked for. */
  readonly criticalAlarmTopic: ITopic;
  /** The alarms by id; disabled ones are absent. */
  readonly alarms: Partial<Record<AlarmId, Alarm>>;
  readonly dashboard: Dashboard;
  /** The replication slot, also the `Slot` dimension of the alarms. */
  readonly slotName: string;

  constructor(scope: Construct, id: string, props: SlotsyncSyncProps) {
    super(scope, id);
    const slotName = props.slotName ?? DEFAULT_SLOT_NAME;
    if (!SLOT_NAME.test(slotName)) throw new Error("slotName must be 1-63 lower-case letters, digits or _");
    this.slotName = slotName;
    const thresholds = { ...DEFAULT_THRESHOLDS, ...props.thresholds };
    if (thresholds.walWarningGb >= thresholds.walCriticalGb)
      throw new Error("thresholds.walWarningGb must be below thresholds.walCriticalGb");
    const consumer = props.consumer ?? {};

    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const queues = new SyncQueues(this, "Queues", {
      consumerTimeout: consumer.timeout ?? DEFAULT_CONSUMER.timeout,
      maxReceiveCount,
      ...(props.queueRemovalPolicy ? { removalPolicy: props.queueRemovalPolicy } : {}),
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.secret = props.secret ?? createSecret(this, "Secret", props.secretRemovalPolicy);

    // The consumer dead-letters a record blocked by schema drift itself on its last delivery, with
    // the reason, instead of leaving SQS to move it without one.
    const environment: Record<string, string> = {
      SQS_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      ...props.environment,
    };
    if (props.upstashRedisRestUrl) environment.UPSTASH_REDIS_REST_URL = props.upstashRedisRestUrl;
    if (props.elasticsearchUrl) environment.ELASTICSEARCH_URL = props.elasticsearchUrl;
    const functions = new SyncFunctions(this, "Functions", {
      schema: props.schema,
      secret: this.secret,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      slotName,
      searchEngine: props.searchEngine ?? { kind: "elasticsearch" },
      thresholds,
      consumer,
      pollSchedule: props.pollSchedule ?? DEFAULT_POLL_SCHEDULE,
      ...(props.pollerTimeout ? { pollerTimeout: props.pollerTimeout } : {}),
      pollerEnabled: props.pollerEnabled ?? true,
      pollerReservedConcurrency: props.pollerReservedConcurrency ?? false,
      pollerMode: props.pollerMode ?? "economy",
      entries: { ...DEFAULT_ENTRIES, ...props.entries },
      projectRoot: props.projectRoot ?? REPO_ROOT,
      ...(props.runtime ? { runtime: props.runtime } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      environment,
      ...(props.vpc ? { vpc: props.vpc } : {}),
      ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
      ...(props.securityGroups ? { securityGroups: props.securityGroups } : {}),
    });
    this.poller = functions.poller;
    this.consumer = functions.consumer;
    this.bootstrap = functions.bootstrap;
    this.monitor = functions.monitor;
    this.pollerRule = functions.pollerRule;
    if (functions.securityGroup) this.securityGroup = functions.securityGroup;

    const alarms = new SyncAlarms(this, "Alarms", {
      poller: this.poller,
      consumer: this.consumer,
      monitor: this.monitor,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      slotName,
      thresholds,
      pollerTimeout: this.poller.timeout ?? Duration.minutes(1),
      consumerTimeout: this.consumer.timeout ?? DEFAULT_CONSUMER.timeout,
      ...(props.alarmTopic ? { topic: props.alarmTopic } : {}),
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
      ...(props.criticalAlarmTopic ? { criticalTopic: props.criticalAlarmTopic } : {}),
      ...(props.criticalAlarmEmail ? { criticalEmail: props.criticalAlarmEmail } : {}),
      ...(props.disabledAlarms ? { disabled: props.disabledAlarms } : {}),
    });
    this.alarmTopic = alarms.topic;
    this.criticalAlarmTopic = alarms.criticalTopic;
    this.alarms = alarms.alarms;
    this.dashboard = new SyncDashboard(this, "Dashboard", {
      poller: this.poller,
      consumer: this.consumer,
      monitor: this.monitor,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      slotName,
      thresholds,
      alarms: Object.values(this.alarms).filter((a): a is Alarm => a !== undefined),
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
    }).dashboard;

    acknowledgeFindings({
      queues,
      functions,
      secret: this.secret,
      ownSecret: !props.secret,
      searchEngine: props.searchEngine ?? { kind: "elasticsearch" },
      inVpc: props.vpc !== undefined,
      emailSubscriptions: alarms.emailSubscriptions,
    });
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);
  }
}
