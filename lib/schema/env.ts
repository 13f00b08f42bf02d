import type { SchemaProblem } from "./errors";
import { childPath } from "./problems";
import type { JsonLike } from "./types";

/** Environment variables to substitute; passed in so the library never reads `process.env` itself. */
export type EnvMap = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** The variable naming further variables a schema may read, comma-separated (`NAME` or `PREFIX_*`). */
export const SCHEMA_ENV_ALLOW = "SCHEMA_ENV_ALLOW";
/** Variables with this prefix may always be read by a schema (unless their name marks a secret). */
export const SCHEMA_ENV_PREFIX = "SLOTSYNC_SCHEMA_";
/** Allowed without being listed: the database name the bundled examples use. */
const ALWAYS_ALLOWED = ["DATABASE"];
/**
 * Set by the Lambda environment loader to the names of the keys merged in from Secrets Manager:
 * whatever the secret holds is secret, whatever its name.
 */
export const SECRET_KEYS_VARIABLE = "SLOTSYNC_SECRET_KEYS";

/**
 * Names that carry a secret or a credential: refused even when `SCHEMA_ENV_ALLOW` lists them. URLs
 * (`*_URL`, `*_URI`, `*_DSN`) often hold a user and password or a signature; `AWS_*` and `UPSTASH_*`
 * are the platform's credentials.
 */
const SECRET_NAME =
  /PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|SIGNATURE|AUTH|COOKIE|SESSION|PRIVATE|CERT|_URL$|_URI$|_DSN$|^AWS_|^UPSTASH_|^PG_URL$|^DATABASE_URL$/i;

/** Why a schema may not read `name`, or undefined when it may. */
export function schemaEnvRefusal(name: string, env: EnvMap): string | undefined {
  const secretKeys = listOf(env[SECRET_KEYS_VARIABLE]);
  if (SECRET_NAME.test(name) || secretKeys.includes(name)) {
    return `${name} holds a secret or a credential, and a schema never reads one (its value would reach documents, the index or error messages); put a non-secret value in a variable named ${SCHEMA_ENV_PREFIX}<NAME> instead`;
  }
  if (ALWAYS_ALLOWED.includes(name) || name.startsWith(SCHEMA_ENV_PREFIX)) return undefined;
  const allowed = listOf(env[SCHEMA_ENV_ALLOW]);
  if (allowed.some((entry) => entry === name || (entry.endsWith("*") && name.startsWith(entry.slice(0, -1)))))
    return undefined;
  return `the schema may not read environment variable ${name}: name it ${SCHEMA_ENV_PREFIX}${name}, or add ${name} to ${SCHEMA_ENV_ALLOW} (comma-separated names)`;
}

function listOf(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A string value of the schema that took something from the environment. */
export interface Interpolation {
  path: string;
  /** The text as written in the schema, `${NAME}` references included: safe to print. */
  template: string;
  /** The values substituted, by variable name. */
  values: ReadonlyMap<string, string>;
}

/**
 * Replaces `${NAME}` in every string value of a parsed schema with `env.NAME`, for the variables the
 * operator allows ({@link schemaEnvRefusal}): `DATABASE`, `SLOTSYNC_SCHEMA_*` and those listed in
 * `SCHEMA_ENV_ALLOW`; never a secret-bearing name.
 *
 * `${NAME:-fallback}` uses the fallback when NAME is unset or empty; `$${` writes a literal `${`.
 * Substitution happens on parsed string values, never on the raw text, so a value containing
 * quotes cannot change the structure of the schema. Object keys are left alone. Problems never
 * contain a variable's value.
 */
export function substituteEnv(
  value: JsonLike,
  env: EnvMap,
): { value: JsonLike; problems: SchemaProblem[]; interpolations: Interpolation[] } {
  const problems: SchemaProblem[] = [];
  const interpolations: Interpolation[] = [];
  const walk = (current: JsonLike, path: string): JsonLike => {
    if (typeof current === "string") return substituteString(current, env, path, problems, interpolations);
    if (Array.isArray(current)) return current.map((item, i) => walk(item, childPath(path, i)));
    if (current !== null && typeof current === "object") {
      const result: Record<string, JsonLike> = {};
      for (const [key, item] of Object.entries(current)) result[key] = walk(item, childPath(path, key));
      return result;
    }
    return current;
  };
  return { value: walk(value, ""), problems, interpolations };
}

function substituteString(
  text: string,
  env: EnvMap,
  path: string,
  problems: SchemaProblem[],
  interpolations: Interpolation[],
): string {
  if (!text.includes("${")) return text;
  const values = new Map<string, string>();
  const out = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === "$${") return "${";
    const key = name ?? "";
    const refusal = schemaEnvRefusal(key, env);
    if (refusal) {
      problems.push({ path, message: refusal });
      return "";
    }
    const found = env[key];
    if (found !== undefined && found !== "") {
      values.set(key, found);
      return found;
    }
    if (fallback !== undefined) return fallback;
    if (found === undefined) {
      problems.push({
        path,
        message: `environment variable ${key} is not set; set it or write \${${key}:-default}`,
      });
    }
    return "";
  });
  if (values.size > 0) interpolations.push({ path, template: text, values });
  return out;
}

/**
 * A problem message with every value taken from the environment replaced by the reference that
 * produced it, so a message never shows what a variable holds. Values shorter than 3 characters
 * are replaced only inside quotes, where they cannot be part of an ordinary word.
 */
export function hideInterpolatedValues(message: string, interpolations: readonly Interpolation[]): string {
  let out = message;
  for (const { values } of interpolations) {
    for (const [name, value] of values) {
      const forms = new Set([value, value.toLowerCase(), JSON.stringify(value).slice(1, -1)]);
      for (const form of forms) {
        if (form.length >= 3) out = out.split(form).join(`\${${name}}`);
        else out = out.split(`"${form}`).join(`"\${${name}}`);
      }
    }
  }
  return out;
}
