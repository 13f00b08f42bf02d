import { stringifyExact } from "./exact-json";
import { SourceText } from "./types";

/**
 * A document source as one line of JSON text, or why it cannot be sent. Shared by every writer
 * that embeds sources: the `_bulk` body and the stream records.
 */
export function encodeSource(source: unknown): string | { invalid: string } {
  if (source instanceof SourceText) {
    // One NDJSON line: a line break inside would split the document in two.
    const json = source.json;
    const object = json.charCodeAt(0) === 0x7b || /^\s*\{/.test(json);
    if (!object || json.includes("\n") || json.includes("\r")) {
      return { invalid: "document source text must be one JSON object on one line" };
    }
    return json;
  }
  if (source === null || typeof source !== "object" || Array.isArray(source)) {
    return { invalid: "document source must be a JSON object" };
  }
  try {
    return stringifyExact(source);
  } catch (err) {
    return { invalid: `document source cannot be serialized: ${(err as Error).message}` };
  }
}
