import {
  checkRequestTuning,
  checkWholeNumber,
  type SinkConfigProblem,
  throwSettingProblems,
} from "../settings-check";

/**
 * How `write` batches and retries. Every field has a default (`SINK_DEFAULTS`).
 */
export interface SinkTuning {
  /** Most operations per `_bulk` request (`ELASTICSEARCH_CHUNK_SIZE`). */
  chunkSize?: number;
  /** Most body bytes per `_bulk` request (`ELASTICSEARCH_MAX_CHUNK_BYTES`); a bigger document goes alone. */
  chunkBytes?: number;
  /** Timeout of one HTTP request, in ms (`ELASTICSEARCH_TIMEOUT`, which is in seconds). */
  requestTimeoutMs?: number;
  /** Retry rounds after the first attempt, for retryable failures (`ELASTICSEARCH_MAX_RETRIES`). */
  maxRetries?: number;
  /** Backoff cap of the first retry; doubles each round, with full jitter. */
  baseDelayMs?: number;
  /** Largest backoff of any round. */
  maxDelayMs?: number;
  /** Time budget of one `write` call, retries included; what is still pending then is `retryable`. */
  writeDeadlineMs?: number;
  /**
   * Adapt the operations per request to the engine's answer times and pushback, per index,
   * starting from `chunkSize` (see lib/sink/adaptive.ts). Off: every request is `chunkSize`.
   */
  adaptive?: boolean;
  /** Largest operations per request adaptive sizing may grow to (`ELASTICSEARCH_MAX_CHUNK_SIZE`). */
  maxChunkSize?: number;
  /** Answer time adaptive sizing aims for, in ms (`ELASTICSEARCH_BULK_TARGET_SECONDS`). */
  targetLatencyMs?: number;
  /** Gzip request bodies. Worth it across regions or on slow links; costs CPU in the Lambda. */
  compression?: boolean;
  /** PEM of the CA that signed the cluster's certificate (read by the caller, not a path). */
  caCertificate?: string;
}

/** Credentials for Elasticsearch. */
export type ElasticsearchAuth =
  /** The base64 "encoded" API key as Kibana and the create-API-key response show it. */
  | { type: "apiKey"; encoded: string }
  /** The API key as its id and secret (`ELASTICSEARCH_API_KEY_ID` + `ELASTICSEARCH_API_KEY`). */
  | { type: "apiKey"; id: string; secret: string }
  | { type: "basic"; username: string; password: string }
  | { type: "bearer"; token: string };

/** Elasticsearch 8 or 9 (through the v8 client, which both accept). */
export interface ElasticsearchSinkConfig extends SinkTuning {
  engine: "elasticsearch";
  /** Node URL(s), `https://host:9200`. Exactly one of `node` and `cloudId`. */
  node?: string | readonly string[];
  /** Elastic Cloud deployment id. */
  cloudId?: string;
  auth?: ElasticsearchAuth;
}

/** AWS credentials as the AWS SDK v3 credential providers return them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Credentials for OpenSearch. */
export type OpenSearchAuth =
  | { type: "basic"; username: string; password: string }
  | {
      /** SigV4-signed requests for Amazon OpenSearch Service (`es`) or Serverless (`aoss`). */
      type: "awsSigV4";
      region: string;
      service?: "es" | "aoss";
      /** Defaults to the AWS SDK's default provider chain (env, web identity, the Lambda role...). */
      credentials?: () => Promise<AwsCredentials>;
    };

/** OpenSearch 2 (self-managed, Amazon OpenSearch Service or Serverless). */
export interface OpenSearchSinkConfig extends SinkTuning {
  engine: "opensearch";
  node: string | readonly string[];
  auth?: OpenSearchAuth;
}

/** Configuration of `createSink`; `engine` picks the implementation. */
export type SinkConfig = ElasticsearchSinkConfig | OpenSearchSinkConfig;

/**
 * Defaults, and why:
 * - `chunkSize` 500: PGSync 7.3.0 uses 5000 with a 100 MB cap for bulk loads; our batches come from SQS
 *   and are retried as a whole on failure, so smaller requests waste less on a retry and finish
 *   well inside the request timeout. Bootstrap can raise it.
 * - `chunkBytes` 5 MiB: Elastic's guidance is 5-15 MB per bulk request; Amazon OpenSearch Service
 *   caps HTTP bodies at 10 MiB on small instance types, so 5 MiB fits every target.
 * - `requestTimeoutMs` 10 s: PGSync's `ELASTICSEARCH_TIMEOUT` default.
 * - 5 retries, 200 ms doubling to at most 10 s, full jitter: rides out a rejected-execution burst
 *   or a node restart (~6 s of waiting at most in total) and then hands back to SQS redelivery.
 * - `writeDeadlineMs` 60 s: a safety net; Lambdas should pass their own `deadline`.
 * - `adaptive` on, growing to at most 5000 operations (PGSync's bulk chunk) and aiming at 5 s per
 *   request: half the default request timeout, and short enough that a 60 s consumer fits ten.
 */
export const SINK_DEFAULTS = {
  chunkSize: 500,
  chunkBytes: 5 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  maxRetries: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  writeDeadlineMs: 60_000,
  adaptive: true,
  maxChunkSize: 5000,
  targetLatencyMs: 5000,
  compression: false,
} as const;

/** The tuning with every default filled in. */
export type ResolvedTuning = Required<Omit<SinkTuning, "caCertificate">>;

/** Fills in the defaults of the tuning fields. */
export function resolveTuning(config: SinkTuning): ResolvedTuning {
  return {
    chunkSize: config.chunkSize ?? SINK_DEFAULTS.chunkSize,
    chunkBytes: config.chunkBytes ?? SINK_DEFAULTS.chunkBytes,
    requestTimeoutMs: config.requestTimeoutMs ?? SINK_DEFAULTS.requestTimeoutMs,
    maxRetries: config.maxRetries ?? SINK_DEFAULTS.maxRetries,
    baseDelayMs: config.baseDelayMs ?? SINK_DEFAULTS.baseDelayMs,
    maxDelayMs: config.maxDelayMs ?? SINK_DEFAULTS.maxDelayMs,
    writeDeadlineMs: config.writeDeadlineMs ?? SINK_DEFAULTS.writeDeadlineMs,
    adaptive: config.adaptive ?? SINK_DEFAULTS.adaptive,
    // Never below the starting size: raising ELASTICSEARCH_CHUNK_SIZE alone keeps working.
    maxChunkSize: Math.max(
      config.maxChunkSize ?? SINK_DEFAULTS.maxChunkSize,
      config.chunkSize ?? SINK_DEFAULTS.chunkSize,
    ),
    targetLatencyMs: config.targetLatencyMs ?? SINK_DEFAULTS.targetLatencyMs,
    compression: config.compression ?? SINK_DEFAULTS.compression,
  };
}

/**
 * Checks a sink configuration and throws one `ConfigError` listing every problem found.
 * Values are never echoed, so a misplaced secret does not end up in a log.
 */
export function validateSinkConfig(config: SinkConfig): void {
  throwSettingProblems(sinkConfigProblems(config), "correct the search engine settings and start again");
}

/** Every problem of a sink configuration (empty when it is valid). */
export function sinkConfigProblems(config: SinkConfig): SinkConfigProblem[] {
  const problems: SinkConfigProblem[] = [];
  const add = (where: string, message: string) => problems.push({ where: `sink.${where}`, message });
  const engine = (config as { engine?: unknown }).engine;
  if (engine !== "elasticsearch" && engine !== "opensearch") {
    add("engine", 'must be "elasticsearch" or "opensearch"');
    return problems;
  }
  checkTuning(config, add);
  const nodes =
    config.node === undefined ? [] : typeof config.node === "string" ? [config.node] : config.node;
  nodes.forEach((node, i) => {
    checkNodeUrl(node, nodes.length === 1 ? "node" : `node[${i}]`, add);
  });
  if (config.engine === "elasticsearch") {
    if (nodes.length === 0 && !config.cloudId) add("node", "set a node URL or a Cloud ID");
    if (nodes.length > 0 && config.cloudId) add("cloudId", "set either node URLs or a Cloud ID, not both");
    checkElasticsearchAuth(config.auth, add);
  } else {
    if (nodes.length === 0) add("node", "set the OpenSearch endpoint URL");
    checkOpenSearchAuth(config.auth, add);
  }
  return problems;
}

type Add = (where: string, message: string) => void;

function checkTuning(config: SinkTuning, add: Add): void {
  checkWholeNumber(config.chunkSize, "chunkSize", 1, 100_000, add);
  // Below 1 KiB almost every document would go alone; above 2 GiB no engine accepts a request.
  checkWholeNumber(config.chunkBytes, "chunkBytes", 1024, 2 ** 31 - 1, add);
  checkRequestTuning(config, add);
  checkWholeNumber(config.maxChunkSize, "maxChunkSize", 1, 100_000, add);
  checkWholeNumber(config.targetLatencyMs, "targetLatencyMs", 100, 15 * 60_000, add);
  if (config.adaptive !== undefined && typeof config.adaptive !== "boolean") {
    add("adaptive", "must be true or false");
  }
  if (config.compression !== undefined && typeof config.compression !== "boolean") {
    add("compression", "must be true or false");
  }
  if (config.caCertificate !== undefined && !config.caCertificate.includes("-----BEGIN CERTIFICATE-----")) {
    add("caCertificate", "must be the PEM text of the certificate (read the file first), not a path");
  }
}

function checkNodeUrl(node: string, where: string, add: Add): void {
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    add(where, "is not a URL; write it as https://host:port");
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    add(where, "must start with http:// or https://");
  // Credentials in the URL end up in client error messages and logs; they have their own fields.
  if (url.username || url.password) add(where, "must not contain credentials; set them in auth instead");
}

function checkElasticsearchAuth(auth: ElasticsearchAuth | undefined, add: Add): void {
  if (auth === undefined) return;
  switch (auth.type) {
    case "apiKey":
      if ("encoded" in auth) {
        if (!auth.encoded) add("auth.encoded", "is empty");
      } else {
        if (!auth.id) add("auth.id", "is empty; set the API key id (ELASTICSEARCH_API_KEY_ID)");
        if (!auth.secret) add("auth.secret", "is empty; set the API key (ELASTICSEARCH_API_KEY)");
      }
      return;
    case "basic":
      checkBasic(auth, add);
      return;
    case "bearer":
      if (!auth.token) add("auth.token", "is empty");
      return;
    default:
      add("auth.type", 'must be "apiKey", "basic" or "bearer" for Elasticsearch');
  }
}

function checkOpenSearchAuth(auth: OpenSearchAuth | undefined, add: Add): void {
  if (auth === undefined) return;
  switch (auth.type) {
    case "basic":
      checkBasic(auth, add);
      return;
    case "awsSigV4":
      if (!auth.region) add("auth.region", "is empty; set the AWS region of the domain or collection");
      if (auth.service !== undefined && auth.service !== "es" && auth.service !== "aoss") {
        add("auth.service", 'must be "es" (OpenSearch Service) or "aoss" (OpenSearch Serverless)');
      }
      return;
    default:
      add("auth.type", 'must be "basic" or "awsSigV4" for OpenSearch');
  }
}

function checkBasic(auth: { username: string; password: string }, add: Add): void {
  if (!auth.username) add("auth.username", "is empty");
  if (!auth.password) add("auth.password", "is empty");
}
