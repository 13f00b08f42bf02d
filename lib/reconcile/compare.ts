import { type DocumentResult, stringifyJson } from "../document";

/** JSON text with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value as Record<string, unknown>).sort();
    return `{${keys
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A built document's source as the engine stores it, in canonical form. */
export function builtSource(doc: DocumentResult & { action: "index" }): string {
  return canonicalJson(JSON.parse(stringifyJson(doc._source)));
}
