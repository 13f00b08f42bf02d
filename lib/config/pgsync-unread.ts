/**
 * PGSync's environment variables (from its `settings.py`, version 7.3.0) that slotsync does not
 * read, each with what to do instead or why nothing is needed. A PGSync `.env` that sets one gets
 * a start-up warning naming it, rather than having it ignored in silence; the configuration
 * reference lists them (`npm run docs`).
 */
import type { Env } from "./env";

/** A setting that is accepted but has no effect, and what to do about it. */
export interface ConfigWarning {
  /** The environment variable. */
  key: string;
  message: string;
}

/** PGSync variables that share one answer. */
export interface UnreadPgsyncGroup {
  names: readonly string[];
  /** What to do instead, or why slotsync needs no such setting. */
  instead: string;
}

/** Every PGSync 7.3.0 variable slotsync does not read, grouped by what to do instead. */
export const UNREAD_PGSYNC_VARIABLES: readonly UnreadPgsyncGroup[] = [
  {
    names: ["ELASTICSEARCH_USE_SSL"],
    instead:
      "TLS follows the URL's scheme: set ELASTICSEARCH_SCHEME=https (or an https:// ELASTICSEARCH_URL)",
  },
  {
    names: [
      "ELASTICSEARCH_VERIFY_CERTS",
      "ELASTICSEARCH_SSL_ASSERT_HOSTNAME",
      "ELASTICSEARCH_SSL_ASSERT_FINGERPRINT",
      "ELASTICSEARCH_SSL_SHOW_WARN",
      "ELASTICSEARCH_SSL_VERSION",
      "ELASTICSEARCH_SSL_CONTEXT",
    ],
    instead: "certificates and host names are always verified; for a private CA set ELASTICSEARCH_CA_CERTS",
  },
  {
    names: ["ELASTICSEARCH_CLIENT_CERT", "ELASTICSEARCH_CLIENT_KEY"],
    instead:
      "client certificates are not supported: authenticate with ELASTICSEARCH_USER and ELASTICSEARCH_PASSWORD, ELASTICSEARCH_API_KEY or ELASTICSEARCH_BEARER_AUTH",
  },
  {
    names: ["ELASTICSEARCH_BASIC_AUTH", "ELASTICSEARCH_HTTP_AUTH"],
    instead: "set ELASTICSEARCH_USER and ELASTICSEARCH_PASSWORD",
  },
  {
    names: ["ELASTICSEARCH"],
    instead: "not needed: the engine is Elasticsearch unless OPENSEARCH=true",
  },
  {
    names: ["ELASTICSEARCH_OPAQUE_ID"],
    instead: "not sent: slotsync sets no X-Opaque-Id",
  },
  {
    names: [
      "ELASTICSEARCH_POOL_MAXSIZE",
      "ELASTICSEARCH_THREAD_COUNT",
      "ELASTICSEARCH_QUEUE_SIZE",
      "ELASTICSEARCH_STREAMING_BULK",
      "NUM_WORKERS",
      "USE_ASYNC",
    ],
    instead:
      "not needed: each consumer sends its batch in _bulk requests of ELASTICSEARCH_CHUNK_SIZE documents; parallelism is the consumer Lambda's concurrency",
  },
  {
    names: [
      "ELASTICSEARCH_RAISE_ON_ERROR",
      "ELASTICSEARCH_RAISE_ON_EXCEPTION",
      "ELASTICSEARCH_IGNORE_STATUS",
    ],
    instead:
      "not needed: a document the engine refuses is retried, then dead-lettered (SQS_DLQ_URL) with a reason, never skipped in silence",
  },
  {
    names: [
      "PG_URL_RO",
      "PG_HOST_RO",
      "PG_PORT_RO",
      "PG_USER_RO",
      "PG_PASSWORD_RO",
      "PG_SSLMODE_RO",
      "PG_SSLROOTCERT_RO",
    ],
    instead:
      "no read replica is used: documents are built from the database the slot is on (PG_URL or PG_HOST…), so a document is never older than the change that named it",
  },
  {
    names: ["PG_DRIVER"],
    instead: "not needed: slotsync has one PostgreSQL driver (node-postgres)",
  },
  {
    names: ["PG_WORK_MEM"],
    instead: "add options=-c%20work_mem%3D64MB to PG_URL, or ALTER ROLE … SET work_mem",
  },
  {
    names: [
      "SQLALCHEMY_POOL_SIZE",
      "SQLALCHEMY_MAX_OVERFLOW",
      "SQLALCHEMY_POOL_TIMEOUT",
      "SQLALCHEMY_POOL_RECYCLE",
      "SQLALCHEMY_POOL_PRE_PING",
      "SQLALCHEMY_USE_NULLPOOL",
    ],
    instead: "not needed: each slotsync process keeps a small connection pool of its own",
  },
  {
    names: [
      "REDIS_HOST",
      "REDIS_PORT",
      "REDIS_DB",
      "REDIS_USER",
      "REDIS_AUTH",
      "REDIS_SCHEME",
      "REDIS_URL",
      "REDIS_CHECKPOINT",
      "REDIS_READ_CHUNK_SIZE",
      "REDIS_WRITE_CHUNK_SIZE",
      "REDIS_SOCKET_TIMEOUT",
      "REDIS_RETRY_ON_TIMEOUT",
      "REDIS_POLL_INTERVAL",
    ],
    instead:
      "no Redis queue: changes go through SQS (SQS_QUEUE_URL) and checkpoints to Upstash (UPSTASH_REDIS_REST_URL and _TOKEN), or for the CLI to SLOTSYNC_STATE_DIR",
  },
  {
    names: ["CHECKPOINT_PATH"],
    instead: "checkpoints live in Upstash (UPSTASH_REDIS_REST_URL) or, for the CLI, in SLOTSYNC_STATE_DIR",
  },
  {
    names: ["LOGICAL_SLOT_CHUNK_SIZE"],
    instead: "set POLLER_FETCH_SIZE (changes read from the slot per fetch)",
  },
  {
    names: ["QUERY_CHUNK_SIZE", "FILTER_CHUNK_SIZE", "BLOCK_SIZE", "STREAM_RESULTS", "JOIN_QUERIES"],
    instead:
      "not needed: the bootstrap builds documents in key ranges of BOOTSTRAP_RANGE_ROWS rows, consumers one SQS batch at a time",
  },
  {
    names: ["POLL_INTERVAL", "POLL_TIMEOUT"],
    instead: "set POLL_INTERVAL_SECONDS (the poller's pause after a cycle that found nothing)",
  },
  {
    names: ["POLLING", "WAL"],
    instead: "not needed: slotsync always reads a wal2json logical replication slot, with no triggers",
  },
  {
    names: ["REPLICATION_SLOT_CLEANUP_INTERVAL"],
    instead: "not needed: the poller advances the slot as soon as SQS has accepted what it read",
  },
  {
    names: [
      "LOG_INTERVAL",
      "LOG_HANDLERS",
      "CUSTOM_LOGGING",
      "GENERAL_LOGGING_LEVEL",
      "CONSOLE_LOGGING_HANDLER_MIN_LEVEL",
      "FORMAT_WITH_COMMAS",
    ],
    instead:
      "logs are structured JSON (level: POWERTOOLS_LOG_LEVEL in the Lambdas); progress is in `slotsync status` and the metrics",
  },
  {
    names: ["MYSQL_DATABASE", "USE_UTF8MB4"],
    instead: "not needed: slotsync syncs from PostgreSQL only",
  },
  {
    names: ["QUERY_LITERAL_BINDS"],
    instead: "not needed: `slotsync render` shows the documents a schema builds",
  },
];

const BY_NAME = new Map(UNREAD_PGSYNC_VARIABLES.flatMap((g) => g.names.map((name) => [name, g] as const)));

/**
 * One warning for each PGSync variable set (non-empty) in `env` that slotsync does not read,
 * in the order of `UNREAD_PGSYNC_VARIABLES`. Values are never included.
 */
export function unreadPgsyncWarnings(env: Env): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  for (const [key, group] of BY_NAME) {
    if (!env[key]?.trim()) continue;
    warnings.push({ key, message: `is PGSync's and is not read by slotsync: ${group.instead}` });
  }
  return warnings;
}

/** The configuration reference's section on PGSync variables slotsync does not read (Markdown lines). */
export function renderUnreadPgsyncSection(): string[] {
  const out = [
    "",
    "## PGSync variables slotsync does not read",
    "",
    "A PGSync `.env` works unchanged; these of its variables have no effect. Each one that is set is",
    "named once at start-up, as a warning on stderr (`slotsync: warning: <VARIABLE> …`) or in the",
    "Lambda's log, with what to do instead.",
    "",
    "| PGSync variable | instead |",
    "|---|---|",
  ];
  for (const group of UNREAD_PGSYNC_VARIABLES) {
    const names = group.names.map((name) => `\`${name}\``).join(", ");
    out.push(`| ${names} | ${group.instead.replaceAll("|", "\\|")} |`);
  }
  return out;
}
