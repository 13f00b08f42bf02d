import { Duration, type RemovalPolicy, Token } from "aws-cdk-lib";
import type { ISecurityGroup, IVpc, SubnetSelection } from "aws-cdk-lib/aws-ec2";
import type { Schedule } from "aws-cdk-lib/aws-events";
import type { Runtime } from "aws-cdk-lib/aws-lambda";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { AlarmId } from "./alarms";

/**
 * Where the functions read the PGSync-style `schema.json` from.
 *
 * - {@link SchemaSource.file}: a local file, copied into every function's bundle at synth time
 *   (`SCHEMA=/var/task/schema.json`); a changed schema is a code change, so every function restarts
 *   with it on the next deploy.
 * - {@link SchemaSource.url}: `https://…` or `s3://bucket/key` (`SCHEMA_URL`), read at each cold start;
 *   an `s3://` URL gets `s3:GetObject` on exactly that object.
 */
export class SchemaSource {
  /** A local schema file, bundled with the functions. */
  static file(path: string): SchemaSource {
    return new SchemaSource("file", path);
  }

  /**
   * An `https://` or `s3://` URL. A token (a CloudFormation parameter) is accepted: the `s3:GetObject`
   * grant is then made conditional on the value starting with `s3://`.
   */
  static url(url: string): SchemaSource {
    if (!Token.isUnresolved(url) && !/^(https|s3):\/\/.+/.test(url)) {
      // The value is not echoed: a secret pasted in the wrong place must not reach the synth output.
      throw new Error("schema URL must start with https:// or s3://");
    }
    return new SchemaSource("url", url);
  }

  private constructor(
    /** `file` or `url`. */
    readonly kind: "file" | "url",
    /** The local path (`file`) or the URL (`url`). */
    readonly value: string,
  ) {}
}

/**
 * The search engine (or stream sink) and how the functions authenticate to it. Credentials (API key,
 * user/password, webhook secret) always come from the secret; only the mode and, for Amazon
 * OpenSearch, the IAM grant are set here.
 */
export type SearchEngine =
  /** Elasticsearch 8/9 (Elastic Cloud or self-managed); API key or basic auth in the secret. */
  | { kind: "elasticsearch" }
  /** Self-managed OpenSearch 2 with basic auth in the secret (`OPENSEARCH=true`). */
  | { kind: "opensearch" }
  /** Amazon OpenSearch Service domain, SigV4 with the function roles (`es:ESHttp*` on the domain). */
  | { kind: "aws-opensearch"; domainArn: string }
  /** Amazon OpenSearch Serverless collection, SigV4 (`aoss:APIAccessAll`; add a data access policy). */
  | { kind: "aws-opensearch-serverless"; collectionArn: string }
  /**
   * No search engine: signed JSON batches POSTed to a receiver (`SINK=webhook`). `WEBHOOK_URL` and
   * `WEBHOOK_SECRET` go in the secret; `WEBHOOK_BATCH_SIZE` and the other tuning in `environment`.
   */
  | { kind: "webhook" }
  /** No search engine: one NDJSON record per operation on stdout, i.e. the consumer's CloudWatch log (`SINK=ndjson`). */
  | { kind: "ndjson" };

/** Alarm thresholds; every field has a default in {@link DEFAULT_THRESHOLDS}. */
export interface AlarmThresholds {
  /** Retained WAL of the slot that raises the warning alarm, in GiB (`WAL_WARNING_THRESHOLD_GB`). */
  readonly walWarningGb?: number;
  /** Retained WAL of the slot that raises the critical alarm, in GiB (`WAL_CRITICAL_THRESHOLD_GB`). */
  readonly walCriticalGb?: number;
  /** Seconds without a successful poll (`SecondsSinceLastPoll`) before the stall alarm. */
  readonly maxSecondsSinceLastPoll?: number;
  /** `ConfirmedFlushLagBytes` of the slot, in GiB, sustained for 15 minutes. */
  readonly maxSlotLagGb?: number;
  /** Age of the oldest message in the key queue, in seconds. */
  readonly maxQueueAgeSeconds?: number;
}

/** Defaults of {@link AlarmThresholds}: the WAL numbers are the seed runbook's example (12 / 15 GB). */
export const DEFAULT_THRESHOLDS: Required<AlarmThresholds> = {
  walWarningGb: 12,
  walCriticalGb: 15,
  maxSecondsSinceLastPoll: 300,
  maxSlotLagGb: 1,
  maxQueueAgeSeconds: 900,
};

/** How the consumer reads the key queue. */
export interface ConsumerSettings {
  /**
   * Messages per invocation (1-10000), default 10. One message carries many keys, or a bootstrap
   * range of 5000 rows, so a few messages already make a large bulk write.
   */
  readonly batchSize?: number;
  /** How long SQS gathers a batch (0-300 s); default 0, or 1 s above 10 messages (which need one). */
  readonly maxBatchingWindow?: Duration;
  /** Most concurrent consumer invocations (2-1000), default 5; each holds up to 2 database connections. */
  readonly maxConcurrency?: number;
  /** Timeout of one invocation, default 60 s; the queue's visibility timeout is six times this. */
  readonly timeout?: Duration;
  /** Memory in MB, default 1024. */
  readonly memorySize?: number;
}

/** Defaults of {@link ConsumerSettings}. */
export const DEFAULT_CONSUMER = {
  batchSize: 10,
  maxBatchingWindow: Duration.seconds(0),
  maxConcurrency: 5,
  timeout: Duration.seconds(60),
  memorySize: 1024,
} as const;

/** The four functions. */
export type FunctionRole = "poller" | "consumer" | "bootstrap" | "monitor";

/** Every function role, in a stable order. */
export const FUNCTION_ROLES: readonly FunctionRole[] = ["poller", "consumer", "bootstrap", "monitor"];

/** Properties of {@link SlotsyncSync}. Only `schema` is required. */
export interface SlotsyncSyncProps {
  /** Where the schema comes from. */
  readonly schema: SchemaSource;
  /**
   * The Secrets Manager secret holding a JSON object of secret variables (`PG_URL`,
   * `ELASTICSEARCH_API_KEY`, `UPSTASH_REDIS_REST_TOKEN`, `ALERT_WEBHOOK_URL`, ...). Created (with
   * empty values to fill in) when absent. Functions get only its ARN, `SLOTSYNC_SECRET_ARN`.
   */
  readonly secret?: ISecret;
  /** `UPSTASH_REDIS_REST_URL` (not secret; the token is). May also live in the secret. */
  readonly upstashRedisRestUrl?: string;
  /** `ELASTICSEARCH_URL` without credentials in it; may also live in the secret. */
  readonly elasticsearchUrl?: string;
  /** Default `{ kind: "elasticsearch" }`. */
  readonly searchEngine?: SearchEngine;
  /** The replication slot (`SLOTSYNC_SLOT`), also the `Slot` dimension of the alarms. Default `slotsync`. */
  readonly slotName?: string;
  /** Run the functions in this VPC (a private database); they then need a NAT or endpoints for AWS and Upstash. */
  readonly vpc?: IVpc;
  /** Subnets in `vpc`; default the VPC's private subnets. */
  readonly vpcSubnets?: SubnetSelection;
  /** Security groups; default one with all outbound traffic allowed. */
  readonly securityGroups?: ISecurityGroup[];
  /** The poller's schedule, default `rate(1 minute)`. */
  readonly pollSchedule?: Schedule;
  /**
   * The poller's timeout. Default: 15 minutes (Lambda's maximum) for a rate schedule, 5 minutes for
   * a cron schedule. A run still stops starting cycles just before the next tick
   * (`POLLER_RUN_SECONDS`); only a cycle inside a transaction larger than one run goes on, up to
   * the safety margin before this timeout (docs/operations/large-transactions.md).
   */
  readonly pollerTimeout?: Duration;
  /** Whether the schedule is enabled; `false` until the first bootstrap (which enables it). Default `true`. */
  readonly pollerEnabled?: boolean;
  /**
   * Reserve one concurrent execution for the poller, default `false`. The lease already keeps one
   * poller per slot; the reservation also turns overlapping ticks into throttles, but fails the
   * deploy on accounts whose concurrency quota is low (new accounts).
   */
  readonly pollerReservedConcurrency?: boolean;
  /**
   * How the poller spends its runs (`POLLER_MODE`), default `economy`: each scheduled run drains
   * the slot and ends once changes stop coming, so an idle deployment runs the poller for well
   * under a second a minute; the first change after a quiet spell waits for the next tick.
   * `latency`: every run polls until the next tick and hands over to it without a gap.
   * docs/operations/poller-modes.md.
   */
  readonly pollerMode?: PollerMode;
  /** Consumer batching and concurrency. */
  readonly consumer?: ConsumerSettings;
  /** Receives before a message goes to the dead-letter queue, default 5. */
  readonly maxReceiveCount?: number;
  /** Alarm thresholds. */
  readonly thresholds?: AlarmThresholds;
  /** Topic the alarms notify; an encrypted one is created when absent. */
  readonly alarmTopic?: ITopic;
  /** An email address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /**
   * Topic of the critical alarms (poller errors, poll stalled, critical or lost WAL, monitor check
   * failed); default the alarm topic. Created when only `criticalAlarmEmail` is given.
   */
  readonly criticalAlarmTopic?: ITopic;
  /** An email address subscribed to the critical topic (a topic of its own is created for it). */
  readonly criticalAlarmEmail?: string;
  /** Alarms to leave out, by id (`SlotLag`, `PollerThrottles`, ...; see `ALARM_IDS`). */
  readonly disabledAlarms?: readonly AlarmId[];
  /** When the stack goes: keep the created secret (default `RETAIN`) or not. */
  readonly secretRemovalPolicy?: RemovalPolicy;
  /** When the stack goes: keep the queues and the keys they hold (default `RETAIN`) or not. */
  readonly queueRemovalPolicy?: RemovalPolicy;
  /** Tags for every resource of the construct (cost allocation, ownership). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Handler entry files; default the handlers in this repository's `lambdas/`. */
  readonly entries?: Partial<Record<FunctionRole, string>>;
  /** Directory with `package-lock.json` and `node_modules` used for bundling; default this repository. */
  readonly projectRoot?: string;
  /** Lambda runtime, default Node.js 22. */
  readonly runtime?: Runtime;
  /** Log retention, default one month. */
  readonly logRetention?: RetentionDays;
  /** Extra non-secret environment variables for every function; secret-looking names are refused. */
  readonly environment?: Record<string, string>;
  /** Name of the CloudWatch dashboard; default generated. */
  readonly dashboardName?: string;
}

/** How the scheduled poller spends its runs: `POLLER_MODE`. */
export type PollerMode = "economy" | "latency";
