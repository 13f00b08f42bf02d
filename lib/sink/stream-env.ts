import { ConfigError } from "../errors";
import { plainHttpProblem } from "../security";
import { type SinkEnv, sinkConfigFromEnv } from "./env";
import { envReader } from "./settings-check";
import type { DocumentSinkConfig, StreamSinkConfig, WebhookSinkConfig } from "./stream-config";
import { streamSinkConfigProblems } from "./stream-config";
import type { SinkKind } from "./types";

/** The values `SINK` takes. */
export const SINK_KINDS: readonly SinkKind[] = ["elasticsearch", "opensearch", "webhook", "ndjson"];

/**
 * Which sink the environment names: `SINK`, or, when it is unset, `opensearch` with
 * `OPENSEARCH=true` and `elasticsearch` otherwise, so PGSync-style deployments keep working.
 * Undefined (with a problem added) for a value that is not a sink.
 */
export function sinkKindFromEnv(
  env: SinkEnv,
  add: (where: string, message: string) => void,
): SinkKind | undefined {
  const value = env.SINK?.trim().toLowerCase();
  if (value) {
    if ((SINK_KINDS as readonly string[]).includes(value)) return value as SinkKind;
    add("SINK", `must be one of ${SINK_KINDS.join(", ")}`);
    return undefined;
  }
  return ["true", "1", "yes", "on"].includes(env.OPENSEARCH?.trim().toLowerCase() ?? "")
    ? "opensearch"
    : "elasticsearch";
}

/**
 * Builds the configuration of any sink from the environment: `SINK` picks the kind; the search
 * engines read PGSync's `ELASTICSEARCH_*` names (`sinkConfigFromEnv`), the stream sinks theirs:
 *
 * | variable | meaning |
 * |---|---|
 * | `SINK` | `elasticsearch`, `opensearch`, `webhook` or `ndjson` (default from `OPENSEARCH`) |
 * | `WEBHOOK_URL` | receiver URL, http(s) (webhook) |
 * | `WEBHOOK_SECRET` | HMAC-SHA256 signing secret, at least 16 characters (webhook) |
 * | `WEBHOOK_BATCH_SIZE`, `WEBHOOK_BATCH_BYTES` | operations and bytes per request (100, 1048576) |
 * | `WEBHOOK_TIMEOUT` | request timeout, seconds (10) |
 * | `WEBHOOK_MAX_RETRIES`, `WEBHOOK_INITIAL_BACKOFF`, `WEBHOOK_MAX_BACKOFF` | retries (5); backoffs in seconds (0.2, 10) |
 * | `NDJSON_PATH` | file to append to; `-` or unset is stdout (ndjson) |
 *
 * Throws one `ConfigError` naming every wrong variable as `KEY: message; ...` (`where` is the first).
 */
export function documentSinkConfigFromEnv(
  env: SinkEnv,
  options: { readFile?: (path: string) => string } = {},
): DocumentSinkConfig {
  const problems: { where: string; message: string }[] = [];
  const add = (where: string, message: string) => problems.push({ where, message });
  const kind = sinkKindFromEnv(env, add);
  if (kind === "elasticsearch" || kind === "opensearch") {
    if (env.SINK?.trim() && bool(env.OPENSEARCH) === (kind === "elasticsearch")) {
      add("OPENSEARCH", `contradicts SINK=${kind}; remove OPENSEARCH or make it agree`);
    } else {
      // SINK=opensearch is OPENSEARCH=true for the engine parser.
      return sinkConfigFromEnv({ ...env, OPENSEARCH: kind === "opensearch" ? "true" : "false" }, options);
    }
  }
  const config =
    kind === "webhook" || kind === "ndjson" ? streamSinkConfigFromEnv(env, kind, add) : undefined;
  const first = problems[0];
  if (first || !config) {
    throw new ConfigError(problems.map((p) => `${p.where}: ${p.message}`).join("; "), {
      where: first?.where ?? "SINK",
      fix: "correct the environment variables named and start again",
      problems: problems.map((p) => ({ key: p.where, message: p.message })),
    });
  }
  return config;
}

function streamSinkConfigFromEnv(
  env: SinkEnv,
  kind: "webhook" | "ndjson",
  add: (where: string, message: string) => void,
): StreamSinkConfig | undefined {
  const { get, num } = envReader(env, add);
  if (kind === "ndjson") {
    const path = get("NDJSON_PATH");
    return { engine: "ndjson", ...(path ? { path } : {}) };
  }
  const url = get("WEBHOOK_URL");
  const secret = env.WEBHOOK_SECRET; // not trimmed: the receiver signs with it exactly as given
  if (!url) add("WEBHOOK_URL", "is required with SINK=webhook: the URL the batches are POSTed to");
  const insecure = url ? plainHttpProblem(url, "the documents") : undefined;
  if (insecure) add("WEBHOOK_URL", insecure);
  if (!secret) add("WEBHOOK_SECRET", "is required with SINK=webhook: the shared secret of the signature");
  const config: WebhookSinkConfig = { engine: "webhook", url: url ?? "", secret: secret ?? "" };
  const set = <K extends keyof WebhookSinkConfig>(key: K, value: WebhookSinkConfig[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set("batchSize", num("WEBHOOK_BATCH_SIZE"));
  set("batchBytes", num("WEBHOOK_BATCH_BYTES"));
  set("requestTimeoutMs", num("WEBHOOK_TIMEOUT", 1000));
  set("maxRetries", num("WEBHOOK_MAX_RETRIES"));
  set("baseDelayMs", num("WEBHOOK_INITIAL_BACKOFF", 1000));
  set("maxDelayMs", num("WEBHOOK_MAX_BACKOFF", 1000));
  if (url && secret) {
    for (const p of streamSinkConfigProblems(config)) add(ENV_OF[p.where] ?? p.where, p.message);
  }
  return config;
}

const ENV_OF: Record<string, string> = {
  "sink.url": "WEBHOOK_URL",
  "sink.secret": "WEBHOOK_SECRET",
  "sink.batchSize": "WEBHOOK_BATCH_SIZE",
  "sink.batchBytes": "WEBHOOK_BATCH_BYTES",
  "sink.requestTimeoutMs": "WEBHOOK_TIMEOUT",
  "sink.maxRetries": "WEBHOOK_MAX_RETRIES",
  "sink.baseDelayMs": "WEBHOOK_INITIAL_BACKOFF",
  "sink.maxDelayMs": "WEBHOOK_MAX_BACKOFF",
};

function bool(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  return undefined;
}
