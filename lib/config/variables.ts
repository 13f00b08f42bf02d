/**
 * Every environment variable slotsync reads, in one catalogue. The configuration reference
 * (`docs/reference/configuration.md`) is generated from it (`npm run docs`), and a unit test fails
 * when code reads a variable the catalogue does not describe, so the two cannot drift apart.
 */
import { renderUnreadPgsyncSection } from "./pgsync-unread";

/** The part of the product a variable configures: one section of the reference each. */
export type ConfigSection =
  | "database"
  | "schema"
  | "search engine"
  | "other sinks"
  | "queue"
  | "checkpoint store"
  | "poller"
  | "bootstrap"
  | "schema drift"
  | "monitor and alerts"
  | "AWS and Lambda";

/** One environment variable. */
export interface ConfigVariable {
  name: string;
  section: ConfigSection;
  /** The default as a reader would write it, or `—` when there is none. */
  default: string;
  description: string;
  /** True when the value is a credential: keep it in the secret, never in a plain environment. */
  secret?: boolean;
}

/** Sections in the order the reference lists them. */
export const CONFIG_SECTIONS: readonly ConfigSection[] = [
  "database",
  "schema",
  "search engine",
  "other sinks",
  "queue",
  "checkpoint store",
  "poller",
  "bootstrap",
  "schema drift",
  "monitor and alerts",
  "AWS and Lambda",
];

const v = (
  section: ConfigSection,
  name: string,
  defaultValue: string,
  description: string,
  secret = false,
): ConfigVariable =>
  secret
    ? { name, section, default: defaultValue, description, secret }
    : { name, section, default: defaultValue, description };

/** The catalogue, grouped by section. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  v("database", "PG_URL", "—", "`postgresql://user:password@host:5432/db` of the source database", true),
  v("database", "PG_HOST", "localhost", "PGSync's form instead of `PG_URL` (both set: they must agree)"),
  v("database", "PG_PORT", "5432", "PGSync's form: the port"),
  v("database", "PG_USER", "—", "PGSync's form: the role (required in that form)"),
  v("database", "PG_PASSWORD", "—", "PGSync's form: the password", true),
  v(
    "database",
    "PG_DATABASE",
    "the schema's `database`",
    "PGSync's form: used only when the schema is not a local file (PGSync, too, connects to the schema's database)",
  ),
  v(
    "database",
    "PG_SSLMODE",
    "— (verified TLS off loopback)",
    "PGSync's form: libpq's `sslmode` (PGSync's libpq default is `prefer`)",
  ),
  v("database", "PG_SSLROOTCERT", "—", "PGSync's form: CA file, libpq's `sslrootcert`"),
  v(
    "database",
    "SLOTSYNC_SLOT",
    "`slotsync`",
    "name of the logical replication slot (one per cluster: a second database needs its own)",
  ),

  v("schema", "SCHEMA", "—", "schema.json path, `https://` or `s3://` URL (`--schema` wins)"),
  v("schema", "SCHEMA_URL", "—", "the same, read when `SCHEMA` is not set"),
  v(
    "schema",
    "S3_SCHEMA_URL",
    "—",
    "PGSync's name for an `s3://` schema URL, read when neither of the above is set",
  ),
  v(
    "schema",
    "SCHEMA_ENV_ALLOW",
    "—",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the schema's own ${NAME} syntax, written out
    "names (comma-separated, `PREFIX_*` for a prefix) a schema may read as `${NAME}`, besides `DATABASE` and `SLOTSYNC_SCHEMA_*`; never a secret ([details](schema-environment.md))",
  ),
  v(
    "schema",
    "SCHEMA_TIMEOUT_SECONDS",
    "30",
    "how long fetching an `https://` schema may take, connecting and reading it all (at most 10 MiB; redirects obey the same rules as the first URL)",
  ),
  v(
    "schema",
    "PLUGINS_DIR",
    "—",
    "directory of the schema's document plugins: only the module named after each plugin the schema lists is imported (`PriceInCents`: `price-in-cents.ts`, ...), subfolders never",
  ),

  v(
    "search engine",
    "SINK",
    "`opensearch` if `OPENSEARCH=true`, else `elasticsearch`",
    "`elasticsearch`, `opensearch`, `webhook` or `ndjson`",
  ),
  v("search engine", "OPENSEARCH", "false", "`true` for OpenSearch"),
  v(
    "search engine",
    "ELASTICSEARCH_URL",
    "—",
    "node URL(s), comma-separated; `user:password@` in it becomes basic auth",
    true,
  ),
  v(
    "search engine",
    "ELASTICSEARCH_SCHEME",
    "http",
    "PGSync's form instead of `ELASTICSEARCH_URL`, with `_HOST` and `_PORT` (both set: they must agree)",
  ),
  v("search engine", "ELASTICSEARCH_HOST", "localhost", "PGSync's form: the host"),
  v("search engine", "ELASTICSEARCH_PORT", "9200", "PGSync's form: the port"),
  v("search engine", "ELASTICSEARCH_CLOUD_ID", "—", "Elastic Cloud deployment instead of a URL"),
  v("search engine", "ELASTICSEARCH_API_KEY_ID", "—", "API key id, with `ELASTICSEARCH_API_KEY`"),
  v("search engine", "ELASTICSEARCH_API_KEY", "—", "API key (alone: the encoded form)", true),
  v("search engine", "ELASTICSEARCH_USER", "—", "basic auth user, with `ELASTICSEARCH_PASSWORD`"),
  v("search engine", "ELASTICSEARCH_PASSWORD", "—", "basic auth password", true),
  v("search engine", "ELASTICSEARCH_BEARER_AUTH", "—", "bearer token", true),
  v("search engine", "ELASTICSEARCH_CA_CERTS", "—", "CA certificate: PEM text or a file path"),
  v(
    "search engine",
    "ELASTICSEARCH_TIMEOUT",
    "10",
    "request timeout, seconds; with adaptive sizing the floor of a `_bulk` timeout, which grows with the predicted answer time up to the time left",
  ),
  v(
    "search engine",
    "ELASTICSEARCH_CHUNK_SIZE",
    "500",
    "documents per `_bulk` request (PGSync's default is 5000); with adaptive sizing the size each index starts from",
  ),
  v(
    "search engine",
    "ELASTICSEARCH_ADAPTIVE_CHUNKS",
    "true",
    "adapt documents per `_bulk` request to the engine's answer time and 429s, per index (docs/operations/slow-sinks.md)",
  ),
  v(
    "search engine",
    "ELASTICSEARCH_MAX_CHUNK_SIZE",
    "5000",
    "most documents per `_bulk` request adaptive sizing grows to (never below `ELASTICSEARCH_CHUNK_SIZE`)",
  ),
  v(
    "search engine",
    "ELASTICSEARCH_BULK_TARGET_SECONDS",
    "5",
    "answer time adaptive sizing aims for; slower answers shrink the requests, answers in half of it grow them",
  ),
  v(
    "search engine",
    "ELASTICSEARCH_MAX_CHUNK_BYTES",
    "5242880",
    "most bytes per `_bulk` request (PGSync: 100 MB)",
  ),
  v(
    "search engine",
    "ELASTICSEARCH_MAX_RETRIES",
    "5",
    "retries of 429 and 5xx answers (exponential backoff, full jitter; PGSync: 0)",
  ),
  v("search engine", "ELASTICSEARCH_INITIAL_BACKOFF", "0.2", "first retry wait, seconds (PGSync: 2)"),
  v("search engine", "ELASTICSEARCH_MAX_BACKOFF", "10", "longest retry wait, seconds (PGSync: 600)"),
  v("search engine", "ELASTICSEARCH_HTTP_COMPRESS", "false", "gzip request bodies (PGSync: true)"),
  v(
    "search engine",
    "OPENSEARCH_AWS_HOSTED",
    "false",
    "SigV4 for Amazon OpenSearch Service (`ELASTICSEARCH_AWS_HOSTED` is read too)",
  ),
  v("search engine", "ELASTICSEARCH_AWS_HOSTED", "false", "the same as `OPENSEARCH_AWS_HOSTED`"),
  v("search engine", "OPENSEARCH_AWS_SERVERLESS", "false", "SigV4 for Amazon OpenSearch Serverless (`aoss`)"),
  v("search engine", "ELASTICSEARCH_AWS_REGION", "`AWS_REGION`", "region for SigV4"),

  v(
    "other sinks",
    "WEBHOOK_URL",
    "— (required for `SINK=webhook`)",
    "receiver URL; treated as a secret (it may hold a token)",
    true,
  ),
  v(
    "other sinks",
    "WEBHOOK_SECRET",
    "— (required for `SINK=webhook`)",
    "HMAC-SHA256 signing secret, at least 16 characters",
    true,
  ),
  v("other sinks", "WEBHOOK_BATCH_SIZE", "100", "most operations per request"),
  v(
    "other sinks",
    "WEBHOOK_BATCH_BYTES",
    "1048576",
    "most body bytes per request; one larger operation goes alone",
  ),
  v("other sinks", "WEBHOOK_TIMEOUT", "10", "request timeout, seconds"),
  v("other sinks", "WEBHOOK_MAX_RETRIES", "5", "retries of 408, 429, 5xx, timeouts and network errors"),
  v("other sinks", "WEBHOOK_INITIAL_BACKOFF", "0.2", "first retry wait, seconds (PGSync: 2)"),
  v("other sinks", "WEBHOOK_MAX_BACKOFF", "10", "longest retry wait, seconds"),
  v("other sinks", "NDJSON_PATH", "stdout", "file the NDJSON sink appends to; `-` means stdout"),

  v("queue", "SQS_QUEUE_URL", "— (in-process queue)", "queue between the poller and the consumers"),
  v("queue", "SQS_DLQ_URL", "—", "its dead-letter queue"),
  v("queue", "SQS_ENDPOINT", "—", "endpoint override (ElasticMQ, LocalStack)"),
  v(
    "queue",
    "SQS_MAX_RECEIVE_COUNT",
    "5",
    "the queue's `maxReceiveCount`: the last delivery dead-letters a record still blocked",
  ),

  v(
    "checkpoint store",
    "UPSTASH_REDIS_REST_URL",
    "—",
    "Upstash Redis REST URL: checkpoints, lease, heartbeat, bootstrap progress, alert state (required in Lambda)",
  ),
  v("checkpoint store", "UPSTASH_REDIS_REST_TOKEN", "—", "its token", true),
  v(
    "checkpoint store",
    "SLOTSYNC_STATE_DIR",
    "`.slotsync/state`",
    "local state directory when Upstash is not set",
  ),
  v(
    "checkpoint store",
    "SLOTSYNC_DEAD_LETTER_FILE",
    "`.slotsync/dead-letters.jsonl`",
    "`slotsync run` without SQS_DLQ_URL: dead letters as JSON lines (reason and message)",
  ),

  v(
    "poller",
    "POLL_INTERVAL_SECONDS",
    "1 (0.25 with POLLER_MODE=latency)",
    "time from one cycle's start to the next; a cycle that filled POLLER_MAX_CHANGES_PER_CYCLE goes straight on (0.05–60)",
  ),
  v(
    "poller",
    "POLLER_RUN_SECONDS",
    "0 (the stack sets the rate + 3 s)",
    "how long one poller Lambda run keeps starting cycles; 0: until the safety margin",
  ),
  v(
    "poller",
    "POLLER_SAFETY_MARGIN_SECONDS",
    "15",
    "the poller Lambda stops starting cycles this long before its timeout",
  ),
  v("poller", "POLLER_FETCH_SIZE", "5000", "rows per fetch from the slot"),
  v("poller", "POLLER_MAX_CHANGES_PER_CYCLE", "200000", "changes decoded per cycle (whole transactions)"),
  v(
    "poller",
    "POLLER_LEASE_TTL_SECONDS",
    "60",
    "the lease's lifetime without renewal: how soon another poller takes over after a crash",
  ),
  v(
    "poller",
    "POLLER_MODE",
    "economy",
    "`economy`: a scheduled run drains the slot and ends once changes stop coming; `latency`: runs poll without pause, each handing over to the next",
  ),
  v(
    "poller",
    "POLLER_IDLE_GRACE_SECONDS",
    "10",
    "economy mode: how long a run keeps polling after the last change it saw (0–900)",
  ),
  v(
    "poller",
    "POLLER_LEASE_WAIT_SECONDS",
    "10",
    "how long a run waits for the lease the previous run still holds, for a hand-over without a gap (0–300)",
  ),
  v(
    "poller",
    "SLOTSYNC_METRICS",
    "standard",
    "the Lambdas' custom metrics: `standard` (what alarms and the dashboard read), `alarms` (only what alarms read, 10), `all`",
  ),
  v("poller", "POLLER_RULE_NAME", "—", "the poller's EventBridge rule, enabled when a bootstrap completes"),

  v("bootstrap", "BOOTSTRAP_RANGE_ROWS", "5000", "root rows per range message"),
  v(
    "bootstrap",
    "BOOTSTRAP_RESEND_MINUTES",
    "30",
    "when a sent but unfinished range is sent again on resume",
  ),
  v("bootstrap", "REINDEX_GRACE_MINUTES", "60", "how long an old index is kept after a re-index"),
  v(
    "bootstrap",
    "CONSUMER_LOOK_AHEAD",
    "1",
    "chunks of documents (a page of a range, a query's keys) a consumer builds while the previous chunk's bulk request is in flight (0–8; 0: build, then write, in turn)",
  ),
  v(
    "bootstrap",
    "WRITE_TARGETS_CACHE_SECONDS",
    "10",
    "how long consumers cache where to write (must match everywhere)",
  ),

  v(
    "schema drift",
    "DRIFT_CHECK_MINUTES",
    "5",
    "how often the poller compares the schema with the catalog (0: before every cycle)",
  ),
  v(
    "schema drift",
    "DRIFT_RETRY_DELAY_MINUTES",
    "30",
    "first wait of a record blocked by drift, doubled per delivery, at most 12 h",
  ),

  v(
    "monitor and alerts",
    "WAL_WARNING_THRESHOLD_GB",
    "80% of `max_slot_wal_keep_size`",
    "retained WAL that raises a warning",
  ),
  v(
    "monitor and alerts",
    "WAL_CRITICAL_THRESHOLD_GB",
    "95% of `max_slot_wal_keep_size`",
    "retained WAL that raises a critical alert",
  ),
  v("monitor and alerts", "ALERT_WEBHOOK_URL", "—", "Discord, Slack or JSON webhook for alerts", true),
  v("monitor and alerts", "ALERT_WEBHOOK_FORMAT", "from the URL", "`discord`, `slack` or `json`"),
  v(
    "monitor and alerts",
    "ALERT_EVENT_BUS",
    "`default` in Lambda, none in the CLI",
    "EventBridge bus for alert events; `none` turns them off",
  ),
  v("monitor and alerts", "ALERT_REMINDER_MINUTES", "60", "reminder interval while a problem lasts"),
  v(
    "monitor and alerts",
    "MONITOR_STALE_POLL_MINUTES",
    "10",
    "a last successful poll older than this is a warning",
  ),
  v(
    "monitor and alerts",
    "MONITOR_VERIFY_SAMPLE",
    "100",
    "root rows and documents per index the monitor compares with the database (`DocumentsDiverged`); 0 turns the check off",
  ),
  v(
    "monitor and alerts",
    "MONITOR_VERIFY_MINUTES",
    "5",
    "least minutes between two sampled comparisons; a document counts as diverged when two comparisons in a row find it wrong",
  ),
  v(
    "monitor and alerts",
    "MONITOR_VERIFY_SETTLE_SECONDS",
    "5",
    "within one comparison, what looks wrong is looked at again after this pause",
  ),

  v(
    "AWS and Lambda",
    "AWS_REGION",
    "`us-east-1`",
    "region of SQS and SigV4; credentials come from the AWS SDK's usual chain",
  ),
  v("AWS and Lambda", "AWS_DEFAULT_REGION", "—", "read when `AWS_REGION` is not set"),
  v(
    "AWS and Lambda",
    "SLOTSYNC_SECRET_ARN",
    "—",
    "Secrets Manager secret whose JSON object is merged into the environment (set by the stack)",
  ),
  v("AWS and Lambda", "POWERTOOLS_LOG_LEVEL", "INFO", "Lambda log level (structured JSON logs)"),
  v("AWS and Lambda", "POWERTOOLS_METRICS_NAMESPACE", "`slotsync`", "CloudWatch namespace of the metrics"),
];

/** Renders the configuration reference (Markdown) from the catalogue. */
export function renderConfigReference(variables: readonly ConfigVariable[] = CONFIG_VARIABLES): string {
  const out: string[] = [
    "# Configuration reference",
    "",
    "<!-- Generated from lib/config/variables.ts by `npm run docs`; edit the catalogue, not this file. -->",
    "",
    "Commands read the environment and a `.env` file in the working directory (or `--env-file FILE`).",
    "A variable set in the environment wins over the file, even when empty; flags win over both",
    "(`--schema` over `SCHEMA`, `--poll-interval` over `POLL_INTERVAL_SECONDS`). The Lambdas read the",
    "same variables, with the secret's values merged in from Secrets Manager. A bad value stops the",
    "command at start-up with one line per variable, `<VARIABLE> <problem>`; values are never printed.",
    "Variables marked **secret** belong in the Secrets Manager secret (or your `.env`), never in a",
    "plain environment of a deployed function.",
  ];
  for (const section of CONFIG_SECTIONS) {
    const rows = variables.filter((variable) => variable.section === section);
    if (rows.length === 0) continue;
    out.push(
      "",
      `## ${section[0]?.toUpperCase()}${section.slice(1)}`,
      "",
      "| variable | default | meaning |",
      "|---|---|---|",
    );
    for (const row of rows) {
      const meaning = row.secret ? `${row.description} (**secret**)` : row.description;
      out.push(`| \`${row.name}\` | ${row.default} | ${meaning.replaceAll("|", "\\|")} |`);
    }
  }
  out.push(...renderUnreadPgsyncSection());
  return `${out.join("\n")}\n`;
}
