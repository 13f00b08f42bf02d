import { ConfigError } from "../errors";
import { type DocumentSinkConfig, documentSinkConfigFromEnv } from "../sink";
import { type DriftConfig, readDriftConfig } from "./drift";
import { type Env, EnvReader } from "./env";
import { localSchemaDatabase, readPgUrl, readSearchUrl } from "./pgsync-names";
import { type ConfigWarning, unreadPgsyncWarnings } from "./pgsync-unread";

/** `POLL_INTERVAL_SECONDS` by default with `POLLER_MODE=latency` (1 s otherwise). */
export const LATENCY_POLL_INTERVAL_SECONDS = 0.25;

/** Where checkpoints, the lease and heartbeats live. */
export type StateConfig = { kind: "upstash"; url: string; token: string } | { kind: "file"; dir: string };

/** Where the poller sends keys; absent means an in-process queue (`slotsync run` only). */
export interface QueueConfig {
  url: string;
  dlqUrl: string | undefined;
  /** Endpoint override, for ElasticMQ or LocalStack; real SQS needs none. */
  endpoint: string | undefined;
  region: string;
}

export interface PollerConfig {
  slot: string | undefined;
  pollIntervalMs: number;
  safetyMarginMs: number;
  /**
   * How long one poller Lambda invocation keeps starting cycles, from its start; 0: until the
   * safety margin before its timeout. The stack sets it just under the schedule's rate, so one
   * run ends as the next tick arrives and no minute passes unpolled.
   */
  runMs: number;
  fetchSize: number;
  maxChangesPerCycle: number;
  /** How long a poller's lease lasts without renewal: how soon another may take over after a crash. */
  leaseTtlMs: number;
  /**
   * `economy`: a scheduled run drains what is there, keeps polling only while changes keep coming
   * (`idleGraceMs`), then ends. `latency`: a run polls until its end, the next one taking over.
   */
  mode: PollerMode;
  /** Economy mode: how long a run keeps polling after the last change it saw. */
  idleGraceMs: number;
  /** How long a run waits for the lease held by the previous run (the hand-over). */
  leaseWaitMs: number;
}

/** How the scheduled poller spends its runs: see {@link PollerConfig.mode}. */
export type PollerMode = "economy" | "latency";
/** The poller modes, for validation and the stack prop. */
export const POLLER_MODES: readonly PollerMode[] = ["economy", "latency"];

/**
 * Which custom metrics the Lambdas publish (`SLOTSYNC_METRICS`): `standard`, what alarms and the
 * dashboard read; `alarms`, what alarms read; `all`, every one (lambdas/metric-sets.ts).
 */
export type MetricSelection = "standard" | "alarms" | "all";
/** The accepted values of `SLOTSYNC_METRICS`. */
export const METRIC_SELECTIONS: readonly MetricSelection[] = ["standard", "alarms", "all"];

export interface AlertConfig {
  webhookUrl: string | undefined;
  warningBytes: bigint | undefined;
  criticalBytes: bigint | undefined;
}

export interface SlotsyncConfig {
  pgUrl: string;
  /** A file path, an https URL or an s3:// URL (`SCHEMA`, `SCHEMA_URL`, or PGSync's `S3_SCHEMA_URL`). */
  schema: string;
  /** How long fetching a schema URL may take, connecting and reading it all (`SCHEMA_TIMEOUT_SECONDS`). */
  schemaTimeoutMs: number;
  /**
   * The sink (`SINK`: a search engine, the webhook or NDJSON); absent when none is configured and
   * the command does not need one.
   */
  sink: DocumentSinkConfig | undefined;
  state: StateConfig;
  queue: QueueConfig | undefined;
  poller: PollerConfig;
  alerts: AlertConfig;
  /** Directory plugins named in the schema are loaded from (`PLUGINS_DIR`). */
  pluginsDir: string | undefined;
  /** Schema drift checks and the back-off of records it blocks. */
  drift: DriftConfig;
  /**
   * Settings that are present but have no effect (PGSync variables slotsync does not read): the
   * entry point reports each once at start-up.
   */
  warnings: readonly ConfigWarning[];
}

/** Which parts a command needs: only those are required. */
export interface ConfigNeeds {
  pg?: boolean;
  schema?: boolean;
  sink?: boolean;
  queue?: boolean;
  /** Upstash is required (Lambdas); otherwise a local state file is allowed. */
  upstash?: boolean;
}

/**
 * The configuration as a command that asked for `N` sees it: every part it declared as needed is
 * present in the type, so callers need no casts or "cannot happen" checks. `upstash: true` makes the
 * state an Upstash store.
 */
export type ConfigFor<N extends ConfigNeeds> = SlotsyncConfig &
  (N["sink"] extends true ? { sink: DocumentSinkConfig } : unknown) &
  (N["queue"] extends true ? { queue: QueueConfig } : unknown) &
  (N["upstash"] extends true ? { state: Extract<StateConfig, { kind: "upstash" }> } : unknown);

const GB = 1024n ** 3n;

/**
 * Reads and validates the configuration once, at start-up. Names follow PGSync and the seeds
 * (`PG_URL` or PGSync's `PG_HOST`/`PG_PORT`/`PG_USER`/`PG_PASSWORD`/`PG_SSLMODE`, `SCHEMA_URL`,
 * `ELASTICSEARCH_*`, `OPENSEARCH`, `UPSTASH_REDIS_REST_*`, `WAL_*`);
 * `SINK`, `WEBHOOK_*` and `NDJSON_PATH` choose and set up a stream sink instead of a search engine.
 * @throws ConfigError naming every bad or missing variable at once.
 */
export function loadConfig<const N extends ConfigNeeds = Record<never, never>>(
  env: Env,
  needs: N = {} as N,
  options: { readFile?: (path: string) => string } = {},
): ConfigFor<N> {
  const r = new EnvReader(env);
  const schema = r.string("SCHEMA") ?? r.string("SCHEMA_URL") ?? r.url("S3_SCHEMA_URL", ["s3"]) ?? "";
  const pgUrl = readPgUrl(r, () => localSchemaDatabase(env, schema, options.readFile));
  if (needs.pg && pgUrl === undefined && r.problems.length === 0) {
    r.required(
      "PG_URL",
      "postgresql://user:password@host:5432/db, or PGSync's PG_HOST, PG_PORT, PG_USER, PG_PASSWORD",
    );
  }
  if (needs.schema && !schema)
    r.problem("SCHEMA", "is required: a schema.json path, or SCHEMA_URL (https:// or s3://)");

  const schemaTimeoutMs = r.number("SCHEMA_TIMEOUT_SECONDS", 30, { min: 1, max: 300 }) * 1000;
  const sink = readSink(r, needs.sink === true, options.readFile);
  const state = readState(r, needs.upstash === true);
  const queue = readQueue(r, needs.queue === true);
  const mode = r.oneOf("POLLER_MODE", POLLER_MODES, "economy");
  const poller: PollerConfig = {
    slot: readSlotName(r),
    // Latency mode pays for continuous polling anyway; a shorter period takes up to 0.75 s off
    // the time a change waits to be read, and idle cycles write nothing to the state store.
    pollIntervalMs:
      r.number("POLL_INTERVAL_SECONDS", mode === "latency" ? LATENCY_POLL_INTERVAL_SECONDS : 1, {
        min: 0.05,
        max: 60,
      }) * 1000,
    safetyMarginMs: r.number("POLLER_SAFETY_MARGIN_SECONDS", 15, { min: 1, max: 300 }) * 1000,
    runMs: r.number("POLLER_RUN_SECONDS", 0, { min: 0, max: 900 }) * 1000,
    fetchSize: r.number("POLLER_FETCH_SIZE", 5000, { min: 100, max: 100_000, integer: true }),
    maxChangesPerCycle: r.number("POLLER_MAX_CHANGES_PER_CYCLE", 200_000, {
      min: 1,
      max: 10_000_000,
      integer: true,
    }),
    leaseTtlMs: r.number("POLLER_LEASE_TTL_SECONDS", 60, { min: 1, max: 3600 }) * 1000,
    mode,
    idleGraceMs: r.number("POLLER_IDLE_GRACE_SECONDS", 10, { min: 0, max: 900 }) * 1000,
    leaseWaitMs: r.number("POLLER_LEASE_WAIT_SECONDS", 10, { min: 0, max: 300 }) * 1000,
  };
  // Read by the Lambdas' metrics (lambdas/metric-sets.ts); checked here so a typo stops the cold start.
  r.oneOf("SLOTSYNC_METRICS", METRIC_SELECTIONS, "standard");
  const alerts: AlertConfig = {
    webhookUrl: r.url("ALERT_WEBHOOK_URL", ["https", "http"], "the alert webhook's URL (often its secret)"),
    warningBytes: gigabytes(r, "WAL_WARNING_THRESHOLD_GB"),
    criticalBytes: gigabytes(r, "WAL_CRITICAL_THRESHOLD_GB"),
  };
  if (
    alerts.warningBytes !== undefined &&
    alerts.criticalBytes !== undefined &&
    alerts.warningBytes >= alerts.criticalBytes
  ) {
    r.problem("WAL_WARNING_THRESHOLD_GB", "must be below WAL_CRITICAL_THRESHOLD_GB");
  }
  const drift = readDriftConfig(r);
  r.throwIfProblems();
  const config: SlotsyncConfig = {
    pgUrl: pgUrl ?? "",
    schema,
    schemaTimeoutMs,
    sink,
    state,
    queue,
    poller,
    alerts,
    pluginsDir: r.string("PLUGINS_DIR"),
    drift,
    warnings: unreadPgsyncWarnings(env),
  };
  // throwIfProblems has refused a missing part the needs declared, so the narrower type holds.
  return config as ConfigFor<N>;
}

/**
 * The sink settings, read by the sink's own parser: `SINK`, PGSync's ELASTICSEARCH_* names, or the
 * stream sinks' WEBHOOK_* and NDJSON_PATH.
 */
function readSink(
  r: EnvReader,
  required: boolean,
  readFile: ((path: string) => string) | undefined,
): DocumentSinkConfig | undefined {
  const searchUrl = readSearchUrl(r);
  const configured =
    searchUrl !== undefined || ["SINK", "ELASTICSEARCH_CLOUD_ID"].some((k) => r.string(k) !== undefined);
  if (!required && !configured) return undefined;
  const env = searchUrl === undefined ? r.env : { ...r.env, ELASTICSEARCH_URL: searchUrl };
  try {
    return documentSinkConfigFromEnv(env, readFile ? { readFile } : {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Merge the sink's problems with ours, one per variable.
    if (error.problems.length === 0) r.problem(error.where ?? "ELASTICSEARCH_URL", error.message);
    for (const p of error.problems) r.problem(p.key, p.message);
    return undefined;
  }
}

function readState(r: EnvReader, upstashRequired: boolean): StateConfig {
  const url = r.url("UPSTASH_REDIS_REST_URL", ["https", "http"], "UPSTASH_REDIS_REST_TOKEN");
  const token = r.string("UPSTASH_REDIS_REST_TOKEN");
  if (url && !token) r.problem("UPSTASH_REDIS_REST_TOKEN", "is required with UPSTASH_REDIS_REST_URL");
  if (url && token) return { kind: "upstash", url, token };
  if (upstashRequired) {
    r.problem(
      "UPSTASH_REDIS_REST_URL",
      "is required: the REST URL of the Upstash Redis database that holds checkpoints",
    );
  }
  return { kind: "file", dir: r.string("SLOTSYNC_STATE_DIR") ?? ".slotsync/state" };
}

function readQueue(r: EnvReader, required: boolean): QueueConfig | undefined {
  const url = r.url("SQS_QUEUE_URL", ["https", "http"]);
  if (!url) {
    if (required)
      r.problem("SQS_QUEUE_URL", "is required: the URL of the SQS queue the poller sends keys to");
    return undefined;
  }
  return {
    url,
    dlqUrl: r.url("SQS_DLQ_URL", ["https", "http"]),
    endpoint: r.url("SQS_ENDPOINT", ["https", "http"]),
    region: r.string("AWS_REGION") ?? r.string("AWS_DEFAULT_REGION") ?? "us-east-1",
  };
}

/** Replication slot names: lower-case letters, digits and underscores, at most 63 bytes. */
function readSlotName(r: EnvReader): string | undefined {
  const slot = r.string("SLOTSYNC_SLOT");
  if (slot !== undefined && !/^[a-z0-9_]{1,63}$/.test(slot)) {
    r.problem(
      "SLOTSYNC_SLOT",
      "must be 1-63 lower-case letters, digits or underscores (a replication slot name)",
    );
  }
  return slot;
}

function gigabytes(r: EnvReader, key: string): bigint | undefined {
  if (r.string(key) === undefined) return undefined;
  const gb = r.number(key, 0, { min: 0.001, max: 1_000_000 });
  return gb > 0 ? BigInt(Math.round(gb * 1024)) * (GB / 1024n) : undefined;
}
