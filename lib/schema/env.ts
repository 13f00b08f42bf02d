import type { SchemaProblem } from "./errors";
import { childPath } from "./problems";
import type { JsonLike } from "./types";

/** Environment variables to substitute; passed in so the library never reads `process.env` itself. */
export type EnvMap = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` in every string value of a parsed schema with `env.NAME`.
 *
 * `${NAME:-fallback}` uses the fallback when NAME is unset or empty; `$${` writes a literal `${`.
 * Substitution happens on parsed string values, never on the raw text, so a value containing
 * quotes cannot change the structure of the schema. Object keys are left alone.
 */
export function substituteEnv(value: JsonLike, env: EnvMap): { value: JsonLike; problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  const walk = (current: JsonLike, path: string): JsonLike => {
    if (typeof current === "string") return substituteString(current, env, path, problems);
    if (Array.isArray(current)) return current.map((item, i) => walk(item, childPath(path, i)));
    if (current !== null && typeof current === "object") {
      const result: Record<string, JsonLike> = {};
      for (const [key, item] of Object.entries(current)) result[key] = walk(item, childPath(path, key));
      return result;
    }
    return current;
  };
  return { value: walk(value, ""), problems };
}

function substituteString(text: string, env: EnvMap, path: string, problems: SchemaProblem[]): string {
  if (!text.includes("${")) return text;
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === "$${") return "${";
    const key = name ?? "";
    const found = env[key];
    if (found !== undefined && found !== "") return found;
    if (fallback !== undefined) return fallback;
    if (found === undefined) {
      problems.push({
        path,
        message: `environment variable ${key} is not set; set it or write \${${key}:-default}`,
      });
    }
    return "";
  });
}
