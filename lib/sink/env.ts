import { ConfigError } from "../errors";
import type { DocumentSinkConfig } from "./config";
import { type SinkEnv, sinkConfigFromEnv } from "./search/env";
import { streamSinkConfigFromEnv } from "./stream/env";
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

function bool(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  if (!v) return undefined;
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  return undefined;
}
