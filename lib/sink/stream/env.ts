import { plainHttpProblem } from "../../security";
import type { SinkEnv } from "../search/env";
import { envReader } from "../settings-check";
import type { StreamSinkConfig, WebhookSinkConfig } from "./config";
import { streamSinkConfigProblems } from "./config";

/**
 * The stream sinks' settings from their environment variables (`WEBHOOK_*`, `NDJSON_PATH`), problems
 * reported through `add` under each variable's name.
 */
export function streamSinkConfigFromEnv(
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
