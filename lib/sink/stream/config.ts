import {
  checkRequestTuning,
  checkWholeNumber,
  type SinkConfigProblem,
  throwSettingProblems,
} from "../settings-check";

/**
 * The webhook sink: operations are POSTed as JSON batches (`{"v":1,"operations":[...]}`) to one
 * URL, signed with HMAC-SHA256 (`X-Slotsync-Signature`). Every tuning field has a default in
 * `WEBHOOK_DEFAULTS`.
 */
export interface WebhookSinkConfig {
  engine: "webhook";
  /** The receiver (`WEBHOOK_URL`), http or https. May hold a token in its path or query: never logged. */
  url: string;
  /** Shared secret of the signature (`WEBHOOK_SECRET`), at least 16 characters. Never logged. */
  secret: string;
  /** Most operations per request (`WEBHOOK_BATCH_SIZE`). */
  batchSize?: number;
  /** Most body bytes per request (`WEBHOOK_BATCH_BYTES`); a bigger single operation goes alone. */
  batchBytes?: number;
  /** Timeout of one request, ms (`WEBHOOK_TIMEOUT`, in seconds). */
  requestTimeoutMs?: number;
  /** Retries of a request after a retryable failure (`WEBHOOK_MAX_RETRIES`). */
  maxRetries?: number;
  /** Backoff cap of the first retry, ms (`WEBHOOK_INITIAL_BACKOFF`, seconds); doubles, full jitter. */
  baseDelayMs?: number;
  /** Largest backoff, ms (`WEBHOOK_MAX_BACKOFF`, seconds). A longer `Retry-After` is still honoured. */
  maxDelayMs?: number;
  /** Time budget of one `write` call; what is still pending then is `retryable`. */
  writeDeadlineMs?: number;
}

/** The NDJSON sink: one JSON record per operation and line, to stdout or appended to a file. */
export interface NdjsonSinkConfig {
  engine: "ndjson";
  /** A file to append to (`NDJSON_PATH`); `-` or absent is the process's stdout. */
  path?: string;
}

/** Configuration of a stream sink. */
export type StreamSinkConfig = WebhookSinkConfig | NdjsonSinkConfig;

/**
 * Defaults of the webhook sink, and why:
 * - `batchSize` 100, `batchBytes` 1 MiB: receivers are ordinary web apps, often behind gateways
 *   that cap bodies (API Gateway 10 MB, many frameworks 1 MB); a refused batch is bisected to find
 *   the operation the receiver objects to, so smaller batches also cost less on a refusal.
 * - `requestTimeoutMs` 10 s, 5 retries from 200 ms doubling to 10 s with full jitter: the search
 *   sinks' numbers, for the same reason (ride out a restart, then hand back to SQS redelivery).
 * - `writeDeadlineMs` 60 s: a safety net; the consumer Lambda passes its own deadline.
 */
export const WEBHOOK_DEFAULTS = {
  batchSize: 100,
  batchBytes: 1024 * 1024,
  requestTimeoutMs: 10_000,
  maxRetries: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  writeDeadlineMs: 60_000,
} as const;

/** The webhook tuning with every default filled in. */
export type ResolvedWebhookConfig = Required<WebhookSinkConfig>;

/** Fills in the webhook defaults. */
export function resolveWebhookConfig(config: WebhookSinkConfig): ResolvedWebhookConfig {
  return { ...WEBHOOK_DEFAULTS, ...stripUndefined(config) } as ResolvedWebhookConfig;
}

/** Shortest webhook secret accepted: 16 characters, 128 bits if random. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** Every problem of a stream sink configuration (empty when valid). Values are never echoed. */
export function streamSinkConfigProblems(config: StreamSinkConfig): SinkConfigProblem[] {
  const problems: SinkConfigProblem[] = [];
  const add = (where: string, message: string) => problems.push({ where: `sink.${where}`, message });
  if (config.engine === "ndjson") {
    if (config.path !== undefined && (typeof config.path !== "string" || config.path.trim() === "")) {
      add("path", 'must be a file path, or "-" for stdout');
    }
    return problems;
  }
  if (config.engine !== "webhook") {
    add("engine", 'must be "elasticsearch", "opensearch", "webhook" or "ndjson"');
    return problems;
  }
  let url: URL | undefined;
  try {
    url = new URL(config.url);
  } catch {
    add("url", "is not a URL; write it as https://host/path");
  }
  if (url && url.protocol !== "https:" && url.protocol !== "http:")
    add("url", "must start with https:// or http://");
  if (url && (url.username || url.password))
    add("url", "must not contain credentials; the signature authenticates");
  if (typeof config.secret !== "string" || config.secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    add("secret", `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`);
  }
  checkWholeNumber(config.batchSize, "batchSize", 1, 100_000, add);
  checkWholeNumber(config.batchBytes, "batchBytes", 1024, 2 ** 31 - 1, add);
  checkRequestTuning(config, add);
  return problems;
}

/** Throws one `ConfigError` listing every problem of a stream sink configuration. */
export function validateStreamSinkConfig(config: StreamSinkConfig): void {
  throwSettingProblems(streamSinkConfigProblems(config), "correct the sink settings and start again");
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
