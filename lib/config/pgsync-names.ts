/**
 * PGSync's connection variables, read as PGSync reads them, so a PGSync `.env` works unchanged:
 * `PG_HOST`, `PG_PORT`, `PG_USER`, `PG_PASSWORD`, `PG_DATABASE`, `PG_SSLMODE`, `PG_SSLROOTCERT`
 * compose the PostgreSQL URL, and `ELASTICSEARCH_SCHEME`, `ELASTICSEARCH_HOST`,
 * `ELASTICSEARCH_PORT` the search engine URL. The URL forms (`PG_URL`, `ELASTICSEARCH_URL`) keep
 * working; both forms together must agree.
 */
import { substituteEnv } from "../schema";
import type { Env, EnvReader } from "./env";

/** PGSync's PostgreSQL parts, in the order messages list them. */
export const PG_PART_NAMES = [
  "PG_HOST",
  "PG_PORT",
  "PG_USER",
  "PG_PASSWORD",
  "PG_SSLMODE",
  "PG_SSLROOTCERT",
] as const;

/** libpq's sslmode values (PGSync passes PG_SSLMODE to psycopg2, i.e. libpq). */
const SSLMODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;

/** The search engine parts PGSync composes its URL from (defaults http, localhost, 9200). */
export const SEARCH_PART_NAMES = [
  "ELASTICSEARCH_SCHEME",
  "ELASTICSEARCH_HOST",
  "ELASTICSEARCH_PORT",
] as const;

/**
 * The PostgreSQL URL: `PG_URL`, or one composed from PGSync's parts (`PG_USER` required; host
 * `localhost` and port 5432 by default, as in PGSync). The database of a composed URL is the
 * schema's `database` (PGSync connects to it whatever `PG_DATABASE` says); `PG_DATABASE` is used
 * only when the schema's database cannot be read at start-up (a schema at a URL).
 * With both forms, every part set must agree with the URL, or one problem names the parts that
 * differ (never their values). Undefined when neither form is set.
 */
export function readPgUrl(r: EnvReader, schemaDatabase: () => string | undefined): string | undefined {
  const url = r.url("PG_URL", ["postgres", "postgresql"]);
  const set = PG_PART_NAMES.filter((k) => r.string(k) !== undefined);
  const sslmode = r.string("PG_SSLMODE");
  if (sslmode !== undefined && !(SSLMODES as readonly string[]).includes(sslmode)) {
    r.problem("PG_SSLMODE", `must be one of ${SSLMODES.join(", ")}`);
  }
  const port = r.number("PG_PORT", 5432, { min: 1, max: 65535, integer: true });
  if (url !== undefined) {
    if (set.length > 0) checkAgreement(r, url, set, port);
    return url;
  }
  if (set.length === 0 && r.string("PG_DATABASE") === undefined) return undefined;
  const user = r.string("PG_USER");
  if (user === undefined) {
    r.problem("PG_USER", "is required with PG_HOST/PG_PORT/PG_PASSWORD (PGSync's form; or set PG_URL)");
    return undefined;
  }
  const database = schemaDatabase() ?? r.string("PG_DATABASE");
  if (database === undefined) {
    r.problem(
      "PG_DATABASE",
      "is required when the schema is not a local file: PGSync's form takes the database from the schema's \"database\"",
    );
    return undefined;
  }
  const composed = new URL("postgresql://localhost");
  composed.hostname = r.string("PG_HOST") ?? "localhost";
  composed.port = String(port);
  composed.username = user;
  const password = r.string("PG_PASSWORD");
  if (password !== undefined) composed.password = password;
  composed.pathname = `/${encodeURIComponent(database)}`;
  if (sslmode !== undefined) composed.searchParams.set("sslmode", sslmode);
  const rootCert = r.string("PG_SSLROOTCERT");
  if (rootCert !== undefined) composed.searchParams.set("sslrootcert", rootCert);
  return composed.toString();
}

function checkAgreement(r: EnvReader, value: string, set: readonly string[], port: number): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return; // reported by r.url
  }
  const inUrl: Record<string, string | undefined> = {
    PG_HOST: url.hostname || "localhost",
    PG_PORT: url.port || "5432",
    PG_USER: decodeURIComponent(url.username) || undefined,
    PG_PASSWORD: decodeURIComponent(url.password) || undefined,
    PG_SSLMODE: url.searchParams.get("sslmode") ?? undefined,
    PG_SSLROOTCERT: url.searchParams.get("sslrootcert") ?? undefined,
  };
  const differ = set.filter((k) => {
    const mine = k === "PG_PORT" ? String(port) : r.string(k);
    return mine !== inUrl[k];
  });
  if (differ.length > 0) {
    r.problem(
      "PG_URL",
      `disagrees with ${differ.join(", ")}: set either PG_URL or PGSync's PG_HOST/PG_PORT/PG_USER/PG_PASSWORD/PG_SSLMODE form, or make them agree`,
    );
  }
}

/**
 * The search engine URL(s) for the sink: `ELASTICSEARCH_URL`, or PGSync's
 * `ELASTICSEARCH_SCHEME://ELASTICSEARCH_HOST:ELASTICSEARCH_PORT` (defaults `http`, `localhost`,
 * 9200) when any of the three is set. With both forms, the parts set must agree with the URL.
 * Credentials stay in `ELASTICSEARCH_USER`/`_PASSWORD` or the API key variables.
 */
export function readSearchUrl(r: EnvReader): string | undefined {
  const url = r.string("ELASTICSEARCH_URL");
  const set = SEARCH_PART_NAMES.filter((k) => r.string(k) !== undefined);
  if (set.length === 0) return url;
  const scheme = r.oneOf("ELASTICSEARCH_SCHEME", ["http", "https"], "http");
  const host = r.string("ELASTICSEARCH_HOST") ?? "localhost";
  const port = r.number("ELASTICSEARCH_PORT", 9200, { min: 1, max: 65535, integer: true });
  if (url === undefined) {
    const composed = new URL(`${scheme}://localhost`);
    composed.hostname = host;
    composed.port = String(port);
    return composed.toString().replace(/\/$/, "");
  }
  const nodes = url
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let agrees = nodes.length === 1;
  try {
    const only = new URL(nodes[0] ?? "");
    const defaultPort = only.protocol === "https:" ? "443" : "80";
    const inUrl: Record<string, string> = {
      ELASTICSEARCH_SCHEME: only.protocol.replace(/:$/, ""),
      ELASTICSEARCH_HOST: only.hostname,
      ELASTICSEARCH_PORT: only.port || defaultPort,
    };
    const mine: Record<string, string> = {
      ELASTICSEARCH_SCHEME: scheme,
      ELASTICSEARCH_HOST: host,
      ELASTICSEARCH_PORT: String(port),
    };
    agrees &&= set.every((k) => inUrl[k] === mine[k]);
  } catch {
    return url; // the sink reports a URL it cannot read
  }
  if (!agrees) {
    r.problem(
      "ELASTICSEARCH_URL",
      `disagrees with ${set.join(", ")}: set either ELASTICSEARCH_URL or PGSync's ELASTICSEARCH_SCHEME/HOST/PORT form, or make them agree`,
    );
  }
  return url;
}

/**
 * The `database` (else `index`, as PGSync defaults it) of the schema's first index, when the
 * schema is a local file that can be read now; `${NAME}` references are substituted.
 */
export function localSchemaDatabase(
  env: Env,
  schema: string,
  readFile: ((path: string) => string) | undefined,
): string | undefined {
  if (!schema || !readFile || /^[a-z][a-z0-9+.-]*:\/\//i.test(schema)) return undefined;
  let first: unknown;
  try {
    const parsed: unknown = JSON.parse(readFile(schema));
    first = Array.isArray(parsed) ? parsed[0] : undefined;
  } catch {
    return undefined; // the schema's own loader reports it
  }
  if (first === null || typeof first !== "object") return undefined;
  const entry = first as { database?: unknown; index?: unknown };
  const name = typeof entry.database === "string" ? entry.database : entry.index;
  if (typeof name !== "string") return undefined;
  const { value, problems } = substituteEnv(name, env);
  return problems.length === 0 && typeof value === "string" && value ? value : undefined;
}
