import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Schedule } from "aws-cdk-lib/aws-events";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { ALARM_IDS, type AlarmId } from "./alarms";
import {
  type AlarmThresholds,
  type ConsumerSettings,
  type PollerMode,
  SchemaSource,
  type SearchEngine,
} from "./props";

/**
 * One `-c key=value` setting of the app: what it means, for the error messages and the README table.
 * Values come as strings from the command line and may be typed in `cdk.json`.
 */
export const CONTEXT_KEYS = {
  stackName: "CloudFormation stack name (default Slotsync)",
  schemaFile: "local schema.json, bundled into the functions",
  schemaUrl: "https:// or s3:// URL of the schema, read at cold start",
  secretArn: "existing Secrets Manager secret (JSON of secret settings); created when absent",
  secretKmsKeyArn: "customer managed KMS key of that secret, if any",
  upstashUrl: "UPSTASH_REDIS_REST_URL (the token goes in the secret)",
  elasticsearchUrl: "ELASTICSEARCH_URL without credentials (or put it in the secret)",
  searchEngine: "elasticsearch | opensearch | aws-opensearch | aws-opensearch-serverless | webhook | ndjson",
  openSearchArn: "domain ARN (aws-opensearch) or collection ARN (aws-opensearch-serverless)",
  slot: "replication slot name (default slotsync)",
  vpcId: "VPC for the functions (private database)",
  subnetIds: "comma-separated subnet ids in that VPC (without them the VPC is looked up: needs credentials)",
  securityGroupIds: "comma-separated security groups (default: one created, all outbound)",
  pollSchedule: "EventBridge expression, default rate(1 minute)",
  pollerTimeoutSeconds: "poller timeout (default 900 s, Lambda's maximum, for rate schedules; 60-900 s)",
  pollerEnabled: "false to deploy the schedule disabled until bootstrap enables it",
  pollerReservedConcurrency: "true to reserve one concurrent execution for the poller (default false)",
  pollerMode: "economy (default: runs end once changes stop) or latency (continuous polling)",
  consumerBatchSize: "messages per consumer invocation (default 10)",
  consumerMaxBatchingWindowSeconds: "seconds SQS gathers a batch (default 0; 1 above 10 messages)",
  consumerMaxConcurrency: "most concurrent consumers (default 5)",
  consumerTimeoutSeconds: "consumer timeout (default 60; queue visibility is 6x)",
  consumerMemoryMb: "consumer memory (default 1024)",
  maxReceiveCount: "receives before the DLQ (default 5)",
  walWarningGb: "retained WAL warning alarm, GiB (default 12)",
  walCriticalGb: "retained WAL critical alarm, GiB (default 15)",
  maxSecondsSinceLastPoll: "poll stall alarm, seconds (default 300)",
  maxSlotLagGb: "slot lag alarm, GiB (default 1)",
  maxQueueAgeSeconds: "oldest message alarm, seconds (default 900)",
  alarmEmail: "email address subscribed to the alarm topic",
  criticalAlarmEmail: "email address for the critical alarms, on a topic of their own",
  disabledAlarms: "comma-separated alarm ids to leave out (e.g. SlotLag,PollerThrottles)",
  secretRemovalPolicy: "retain (default) or destroy: the created secret when the stack is deleted",
  queueRemovalPolicy: "retain (default) or destroy: the queues when the stack is deleted",
  tags: "tags for every resource, key=value,key=value",
  logRetentionDays: "log retention in days (default 30)",
} as const;

/** A context key of the app. */
export type ContextKey = keyof typeof CONTEXT_KEYS;

/** The app's settings, read from the context. */
export interface AppSettings {
  stackName: string;
  schema: SchemaSource | undefined;
  secretArn: string | undefined;
  secretKmsKeyArn: string | undefined;
  upstashRedisRestUrl: string | undefined;
  elasticsearchUrl: string | undefined;
  searchEngine: SearchEngine;
  slotName: string | undefined;
  network: { vpcId: string; subnetIds: string[]; securityGroupIds: string[] } | undefined;
  pollSchedule: Schedule | undefined;
  pollerTimeout: Duration | undefined;
  pollerEnabled: boolean;
  pollerReservedConcurrency: boolean;
  pollerMode: PollerMode;
  consumer: ConsumerSettings;
  maxReceiveCount: number | undefined;
  thresholds: AlarmThresholds;
  alarmEmail: string | undefined;
  criticalAlarmEmail: string | undefined;
  disabledAlarms: AlarmId[];
  secretRemovalPolicy: RemovalPolicy | undefined;
  queueRemovalPolicy: RemovalPolicy | undefined;
  tags: Record<string, string>;
  logRetention: RetentionDays | undefined;
}

/**
 * Reads and checks the app's context (`-c key=value` or `cdk.json`), reporting every bad value at
 * once. Unknown keys that look like ours (a typo) are reported too.
 */
export function readSettings(node: Node): AppSettings {
  const problems: string[] = [];
  const raw = (key: ContextKey): unknown => node.tryGetContext(key);
  const str = (key: ContextKey): string | undefined => {
    const v = raw(key);
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      problems.push(`${key}: must be a string`);
      return undefined;
    }
    return String(v).trim();
  };
  const num = (key: ContextKey, min: number, max: number, integer = true): number | undefined => {
    const s = str(key);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      problems.push(`${key}: must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}`);
      return undefined;
    }
    return n;
  };
  for (const key of Object.keys(node.getAllContext())) {
    // Our keys are plain camelCase; CDK's own carry a prefix (`@aws-cdk/...`, `aws:cdk:...`).
    if (/^[a-z][A-Za-z]+$/.test(key) && !(key in CONTEXT_KEYS)) problems.push(`${key}: unknown setting`);
  }
  const list = (key: ContextKey): string[] =>
    (str(key) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);

  const schemaFile = str("schemaFile");
  const schemaUrl = str("schemaUrl");
  let schema: SchemaSource | undefined;
  if (schemaFile && schemaUrl) problems.push("schemaFile, schemaUrl: give one of them, not both");
  else if (schemaFile) schema = SchemaSource.file(schemaFile);
  else if (schemaUrl) {
    try {
      schema = SchemaSource.url(schemaUrl);
    } catch (error) {
      problems.push(`schemaUrl: ${(error as Error).message}`);
    }
  }

  const searchEngine = readSearchEngine(str("searchEngine"), str("openSearchArn"), problems);
  const vpcId = str("vpcId");
  const subnetIds = list("subnetIds");
  const securityGroupIds = list("securityGroupIds");
  if (!vpcId && (subnetIds.length > 0 || securityGroupIds.length > 0))
    problems.push("subnetIds, securityGroupIds: need vpcId");

  const bool = (key: ContextKey): boolean | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (v !== "true" && v !== "false") problems.push(`${key}: must be true or false`);
    return v === "true";
  };
  const pollerEnabled = bool("pollerEnabled");
  const removal = (key: ContextKey): RemovalPolicy | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (v === "retain") return RemovalPolicy.RETAIN;
    if (v === "destroy") return RemovalPolicy.DESTROY;
    problems.push(`${key}: must be retain or destroy`);
    return undefined;
  };
  const disabledAlarms = list("disabledAlarms");
  for (const a of disabledAlarms)
    if (!(ALARM_IDS as readonly string[]).includes(a))
      problems.push(`disabledAlarms: unknown alarm ${a} (known: ${ALARM_IDS.join(", ")})`);
  const tags: Record<string, string> = {};
  for (const pair of list("tags")) {
    const at = pair.indexOf("=");
    const key = at > 0 ? pair.slice(0, at).trim() : "";
    if (!key || key.length > 128) problems.push(`tags: "${pair.slice(0, 40)}" must be key=value`);
    else tags[key] = pair.slice(at + 1).trim();
  }
  const pollScheduleText = str("pollSchedule");
  if (pollScheduleText !== undefined && !/^(rate|cron)\(.+\)$/.test(pollScheduleText))
    problems.push("pollSchedule: must be an EventBridge expression, rate(...) or cron(...)");
  const slot = str("slot");
  if (slot !== undefined && !/^[a-z0-9_]{1,63}$/.test(slot))
    problems.push("slot: must be 1-63 lower-case letters, digits or _");
  const email = (key: ContextKey): string | undefined => {
    const v = str(key);
    if (v !== undefined && !/^[^@\s]+@[^@\s]+$/.test(v)) problems.push(`${key}: must be an email address`);
    return v;
  };
  const alarmEmail = email("alarmEmail");
  const criticalAlarmEmail = email("criticalAlarmEmail");

  const pollerTimeout = num("pollerTimeoutSeconds", 60, 900);
  const window = num("consumerMaxBatchingWindowSeconds", 0, 300);
  const consumerTimeout = num("consumerTimeoutSeconds", 10, 900);
  const consumer: ConsumerSettings = {
    ...optional("batchSize", num("consumerBatchSize", 1, 10_000)),
    ...optional("maxConcurrency", num("consumerMaxConcurrency", 2, 1000)),
    ...optional("memorySize", num("consumerMemoryMb", 128, 10_240)),
    ...(window !== undefined ? { maxBatchingWindow: Duration.seconds(window) } : {}),
    ...(consumerTimeout !== undefined ? { timeout: Duration.seconds(consumerTimeout) } : {}),
  };
  const thresholds: AlarmThresholds = {
    ...optional("walWarningGb", num("walWarningGb", 0.001, 1_000_000, false)),
    ...optional("walCriticalGb", num("walCriticalGb", 0.001, 1_000_000, false)),
    ...optional("maxSecondsSinceLastPoll", num("maxSecondsSinceLastPoll", 60, 86_400)),
    ...optional("maxSlotLagGb", num("maxSlotLagGb", 0.001, 1_000_000, false)),
    ...optional("maxQueueAgeSeconds", num("maxQueueAgeSeconds", 60, 1_209_600)),
  };
  const retentionDays = num("logRetentionDays", 1, 3653);
  const logRetention = retentionDays === undefined ? undefined : retention(retentionDays, problems);

  const settings: AppSettings = {
    stackName: str("stackName") ?? "Slotsync",
    schema,
    secretArn: str("secretArn"),
    secretKmsKeyArn: str("secretKmsKeyArn"),
    upstashRedisRestUrl: str("upstashUrl"),
    elasticsearchUrl: str("elasticsearchUrl"),
    searchEngine,
    slotName: slot,
    network: vpcId ? { vpcId, subnetIds, securityGroupIds } : undefined,
    pollSchedule: pollScheduleText ? Schedule.expression(pollScheduleText) : undefined,
    pollerTimeout: pollerTimeout !== undefined ? Duration.seconds(pollerTimeout) : undefined,
    pollerEnabled: pollerEnabled !== false,
    pollerReservedConcurrency: bool("pollerReservedConcurrency") ?? false,
    pollerMode: readPollerMode(str("pollerMode"), problems),
    consumer,
    maxReceiveCount: num("maxReceiveCount", 1, 1000),
    thresholds,
    alarmEmail,
    criticalAlarmEmail,
    disabledAlarms: disabledAlarms as AlarmId[],
    secretRemovalPolicy: removal("secretRemovalPolicy"),
    queueRemovalPolicy: removal("queueRemovalPolicy"),
    tags,
    logRetention,
  };
  if (problems.length > 0) {
    throw new Error(
      `invalid context (-c key=value or cdk.json):\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  return settings;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function readSearchEngine(
  kind: string | undefined,
  arn: string | undefined,
  problems: string[],
): SearchEngine {
  switch (kind ?? "elasticsearch") {
    case "elasticsearch":
      return { kind: "elasticsearch" };
    case "opensearch":
      return { kind: "opensearch" };
    case "aws-opensearch":
      if (!arn?.startsWith("arn:") || !arn.includes(":domain/"))
        problems.push("openSearchArn: must be the domain ARN (arn:aws:es:region:account:domain/name)");
      return { kind: "aws-opensearch", domainArn: arn ?? "" };
    case "aws-opensearch-serverless":
      if (!arn?.startsWith("arn:") || !arn.includes(":collection/"))
        problems.push(
          "openSearchArn: must be the collection ARN (arn:aws:aoss:region:account:collection/id)",
        );
      return { kind: "aws-opensearch-serverless", collectionArn: arn ?? "" };
    case "webhook":
      return { kind: "webhook" };
    case "ndjson":
      return { kind: "ndjson" };
    default:
      problems.push(
        "searchEngine: must be elasticsearch, opensearch, aws-opensearch, aws-opensearch-serverless, webhook or ndjson",
      );
      return { kind: "elasticsearch" };
  }
}

/** CloudWatch Logs accepts only some retention periods; take the one named, or say which exist. */
function retention(days: number, problems: string[]): RetentionDays | undefined {
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === "number" && v > 0);
  if (allowed.includes(days)) return days as RetentionDays;
  problems.push(`logRetentionDays: must be one of ${allowed.sort((a, b) => a - b).join(", ")}`);
  return undefined;
}

function readPollerMode(value: string | undefined, problems: string[]): PollerMode {
  if (value === undefined || value === "economy" || value === "latency") return value ?? "economy";
  problems.push("pollerMode: must be economy or latency");
  return "economy";
}
