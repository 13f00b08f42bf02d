import { stringifyExact } from "./exact-json";
import { SourceText } from "./types";

/**
 * A document source as one line of JSON text, or why it cannot be sent. Shared by every writer
 * that embeds sources: the `_bulk` body and the stream records.
 */
export function encodeSource(source: unknown): string | { invalid: string } {
  // Checked when it was made (SourceText.of): one JSON object on one line.
  if (source instanceof SourceText) return source.json;
  if (source === null || typeof source !== "object" || Array.isArray(source)) {
    return { invalid: "document source must be a JSON object" };
  }
  try {
    return stringifyExact(source);
  } catch (err) {
    return { invalid: `document source cannot be serialized: ${(err as Error).message}` };
  }
}
