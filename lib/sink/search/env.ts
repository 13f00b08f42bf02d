import { ConfigError } from "../../errors";
import { plainHttpProblem } from "../../security";
import { envReader } from "../settings-check";
import {
  type ElasticsearchAuth,
  type OpenSearchAuth,
  type SinkConfig,
  type SinkTuning,
  sinkConfigProblems,
} from "./config";

/** Environment variables, passed in so the library never reads `process.env` itself. */
export type SinkEnv = Readonly<Record<string, string | undefined>>;

/**
 * Builds a sink configuration from PGSync's environment variable names, so a PGSync deployment's
 * settings carry over:
 *
 * | variable | meaning |
 * |---|---|
 * | `OPENSEARCH` | `true` for OpenSearch (default Elasticsearch) |
 * | `ELASTICSEARCH_URL` | node URL(s), comma-separated; `user:password@` in it becomes basic auth |
 * | `ELASTICSEARCH_CLOUD_ID` | Elastic Cloud instead of a URL |
 * | `ELASTICSEARCH_API_KEY_ID` + `ELASTICSEARCH_API_KEY` | API key; the key alone is the encoded form |
 * | `ELASTICSEARCH_USER` + `ELASTICSEARCH_PASSWORD` | basic auth |
 * | `ELASTICSEARCH_BEARER_AUTH` | bearer token |
 * | `ELASTICSEARCH_CA_CERTS` | CA certificate: PEM text, or a path read with `readFile` |
 * | `ELASTICSEARCH_TIMEOUT` | request timeout, seconds |
 * | `ELASTICSEARCH_CHUNK_SIZE`, `ELASTICSEARCH_MAX_CHUNK_BYTES` | bulk request limits |
 * | `ELASTICSEARCH_MAX_RETRIES`, `ELASTICSEARCH_INITIAL_BACKOFF`, `ELASTICSEARCH_MAX_BACKOFF` | retries; backoffs in seconds |
 * | `ELASTICSEARCH_HTTP_COMPRESS` | gzip request bodies |
 * | `ELASTICSEARCH_ADAPTIVE_CHUNKS`, `ELASTICSEARCH_MAX_CHUNK_SIZE`, `ELASTICSEARCH_BULK_TARGET_SECONDS` | adaptive bulk sizing |
 * | `OPENSEARCH_AWS_HOSTED` (or `ELASTICSEARCH_AWS_HOSTED`), `OPENSEARCH_AWS_SERVERLESS`, `ELASTICSEARCH_AWS_REGION` (or `AWS_REGION`) | SigV4 for Amazon OpenSearch Service / Serverless |
 *
 * Throws one `ConfigError` naming every wrong variable (`where` is the first one).
 */
export function sinkConfigFromEnv(
  env: SinkEnv,
  options: { readFile?: (path: string) => string } = {},
): SinkConfig {
  const problems: { where: string; message: string }[] = [];
  const add = (where: string, message: string) => problems.push({ where, message });
  const { get, bool, num } = envReader(env, add);

  const tuning: SinkTuning = {};
  const set = <K extends keyof SinkTuning>(key: K, value: SinkTuning[K] | undefined) => {
    if (value !== undefined) tuning[key] = value;
  };
  set("requestTimeoutMs", num("ELASTICSEARCH_TIMEOUT", 1000));
  set("chunkSize", num("ELASTICSEARCH_CHUNK_SIZE"));
  set("chunkBytes", num("ELASTICSEARCH_MAX_CHUNK_BYTES"));
  set("maxRetries", num("ELASTICSEARCH_MAX_RETRIES"));
  set("baseDelayMs", num("ELASTICSEARCH_INITIAL_BACKOFF", 1000));
  set("maxDelayMs", num("ELASTICSEARCH_MAX_BACKOFF", 1000));
  set("compression", bool("ELASTICSEARCH_HTTP_COMPRESS"));
  set("adaptive", bool("ELASTICSEARCH_ADAPTIVE_CHUNKS"));
  set("maxChunkSize", num("ELASTICSEARCH_MAX_CHUNK_SIZE"));
  set("targetLatencyMs", num("ELASTICSEARCH_BULK_TARGET_SECONDS", 1000));
  const ca = get("ELASTICSEARCH_CA_CERTS");
  if (ca !== undefined) {
    if (ca.includes("-----BEGIN")) tuning.caCertificate = env.ELASTICSEARCH_CA_CERTS ?? ca;
    else if (options.readFile) {
      try {
        tuning.caCertificate = options.readFile(ca);
      } catch {
        add("ELASTICSEARCH_CA_CERTS", "names a file that cannot be read");
      }
    } else add("ELASTICSEARCH_CA_CERTS", "must hold the PEM text of the CA certificate");
  }

  const { nodes, urlAuth } = parseUrls(get("ELASTICSEARCH_URL"), add);
  const user = get("ELASTICSEARCH_USER") ?? urlAuth?.username;
  const password = get("ELASTICSEARCH_PASSWORD") ?? urlAuth?.password;
  const basic = user !== undefined || password !== undefined;
  const apiKey = get("ELASTICSEARCH_API_KEY") !== undefined;
  if (basic || apiKey) {
    // Credentials travel in every request's Authorization header.
    const what = basic ? "the user and password" : "the API key";
    const insecure = nodes.map((node) => plainHttpProblem(node, what)).find((p) => p !== undefined);
    if (insecure) add("ELASTICSEARCH_URL", insecure);
  }
  if (basic && (!user || !password)) {
    add(user ? "ELASTICSEARCH_PASSWORD" : "ELASTICSEARCH_USER", "must be set together with the other");
  }

  let config: SinkConfig;
  if (bool("OPENSEARCH")) {
    let auth: OpenSearchAuth | undefined;
    if (bool("OPENSEARCH_AWS_HOSTED") || bool("ELASTICSEARCH_AWS_HOSTED")) {
      const region = get("ELASTICSEARCH_AWS_REGION") ?? get("AWS_REGION");
      if (!region) add("ELASTICSEARCH_AWS_REGION", "must be set for Amazon OpenSearch (or set AWS_REGION)");
      auth = {
        type: "awsSigV4",
        region: region ?? "",
        service: bool("OPENSEARCH_AWS_SERVERLESS") ? "aoss" : "es",
      };
      if (basic) add("ELASTICSEARCH_USER", "cannot be combined with OPENSEARCH_AWS_HOSTED (SigV4)");
    } else if (basic) {
      auth = { type: "basic", username: user ?? "", password: password ?? "" };
    }
    if (nodes.length === 0 && !problems.some((p) => p.where === "ELASTICSEARCH_URL")) {
      add("ELASTICSEARCH_URL", "must be set to the OpenSearch endpoint");
    }
    config = { engine: "opensearch", node: nodes, ...tuning, ...(auth ? { auth } : {}) };
  } else {
    const auths: ElasticsearchAuth[] = [];
    const keyId = get("ELASTICSEARCH_API_KEY_ID");
    const key = get("ELASTICSEARCH_API_KEY");
    if (keyId !== undefined && key === undefined)
      add("ELASTICSEARCH_API_KEY", "must be set with ELASTICSEARCH_API_KEY_ID");
    if (key !== undefined)
      auths.push(keyId ? { type: "apiKey", id: keyId, secret: key } : { type: "apiKey", encoded: key });
    if (basic) auths.push({ type: "basic", username: user ?? "", password: password ?? "" });
    const bearer = get("ELASTICSEARCH_BEARER_AUTH");
    if (bearer !== undefined) auths.push({ type: "bearer", token: bearer });
    if (auths.length > 1)
      add("ELASTICSEARCH_API_KEY", "set one kind of credentials: API key, user and password, or bearer");
    if (bool("ELASTICSEARCH_AWS_HOSTED") || bool("OPENSEARCH_AWS_HOSTED")) {
      add("OPENSEARCH", "must be true for Amazon OpenSearch Service (it runs OpenSearch, signed with SigV4)");
    }
    const cloudId = get("ELASTICSEARCH_CLOUD_ID");
    if (nodes.length === 0 && !cloudId && !problems.some((p) => p.where === "ELASTICSEARCH_URL")) {
      add("ELASTICSEARCH_URL", "must be set (or ELASTICSEARCH_CLOUD_ID)");
    }
    config = {
      engine: "elasticsearch",
      ...(nodes.length > 0 ? { node: nodes } : {}),
      ...(cloudId ? { cloudId } : {}),
      ...tuning,
      ...(auths[0] ? { auth: auths[0] } : {}),
    };
  }

  if (problems.length === 0) {
    // Range checks live in one place; report them under the variable that set the value.
    for (const p of sinkConfigProblems(config)) add(ENV_OF[p.where] ?? p.where, p.message);
  }
  const first = problems[0];
  if (first) {
    throw new ConfigError(problems.map((p) => `${p.where}: ${p.message}`).join("; "), {
      where: first.where,
      fix: "correct the environment variables named and start again",
      problems: problems.map((p) => ({ key: p.where, message: p.message })),
    });
  }
  return config;
}

const ENV_OF: Record<string, string> = {
  "sink.node": "ELASTICSEARCH_URL",
  "sink.cloudId": "ELASTICSEARCH_CLOUD_ID",
  "sink.requestTimeoutMs": "ELASTICSEARCH_TIMEOUT",
  "sink.chunkSize": "ELASTICSEARCH_CHUNK_SIZE",
  "sink.chunkBytes": "ELASTICSEARCH_MAX_CHUNK_BYTES",
  "sink.maxRetries": "ELASTICSEARCH_MAX_RETRIES",
  "sink.maxChunkSize": "ELASTICSEARCH_MAX_CHUNK_SIZE",
  "sink.targetLatencyMs": "ELASTICSEARCH_BULK_TARGET_SECONDS",
  "sink.baseDelayMs": "ELASTICSEARCH_INITIAL_BACKOFF",
  "sink.maxDelayMs": "ELASTICSEARCH_MAX_BACKOFF",
  "sink.caCertificate": "ELASTICSEARCH_CA_CERTS",
  "sink.auth.region": "ELASTICSEARCH_AWS_REGION",
};

/** Splits `ELASTICSEARCH_URL`; credentials in a URL (PGSync allows them) move out of it. */
function parseUrls(
  value: string | undefined,
  add: (where: string, message: string) => void,
): { nodes: string[]; urlAuth?: { username: string; password: string } } {
  if (value === undefined) return { nodes: [] };
  const nodes: string[] = [];
  let urlAuth: { username: string; password: string } | undefined;
  for (const part of value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      add("ELASTICSEARCH_URL", "is not a URL; write it as https://host:port"); // the value may hold a password
      continue;
    }
    if (url.username || url.password) {
      urlAuth = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
      url.username = "";
      url.password = "";
    }
    nodes.push(url.toString().replace(/\/$/, ""));
  }
  return urlAuth ? { nodes, urlAuth } : { nodes };
}
