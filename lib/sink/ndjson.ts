import type { SinkOperation } from "./types";

/** Largest external version the engines accept: a Java `long`. */
export const MAX_VERSION = 2n ** 63n - 1n;
/** Longest `_id` the engines accept, in UTF-8 bytes; longer fails the whole bulk request. */
export const MAX_ID_BYTES = 512;

/** One operation as `_bulk` NDJSON: the action line and, for index, the source line. */
export interface EncodedOperation {
  text: string;
  /** UTF-8 byte length of `text`. */
  bytes: number;
}

/** Why an operation cannot be sent at all. */
export interface InvalidOperation {
  invalid: string;
}

/**
 * Encodes one operation for `_bulk`, or says why it cannot be sent.
 *
 * The action line is written by hand because the version is a bigint: `JSON.stringify` throws on
 * bigints, and both clients' serializers would turn it into a rounded double (2^53 + 1 becomes
 * 2^53). Problems the engine would answer with a 400 for the *whole* request (version out of
 * range, id too long) are caught here, so one bad operation cannot fail its neighbours.
 */
export function encodeOperation(op: SinkOperation): EncodedOperation | InvalidOperation {
  if (typeof op.version !== "bigint") return { invalid: "version must be a bigint (the commit LSN)" };
  if (op.version < 0n || op.version > MAX_VERSION) {
    return { invalid: `version ${op.version} is outside 0 .. 2^63-1, which the engine accepts` };
  }
  if (typeof op.id !== "string" || op.id.length === 0) return { invalid: "document id is empty" };
  const idBytes = Buffer.byteLength(op.id);
  if (idBytes > MAX_ID_BYTES) {
    return { invalid: `document id is ${idBytes} bytes; the engine accepts at most ${MAX_ID_BYTES}` };
  }
  if (typeof op.index !== "string" || op.index.length === 0) return { invalid: "index name is empty" };

  let meta = `{"_index":${JSON.stringify(op.index)},"_id":${JSON.stringify(op.id)},"version":${op.version},"version_type":"external_gte"`;
  if (op.routing !== undefined) meta += `,"routing":${JSON.stringify(op.routing)}`;
  if (op.kind === "delete") {
    const text = `{"delete":${meta}}}\n`;
    return { text, bytes: Buffer.byteLength(text) };
  }
  if (op.pipeline !== undefined) meta += `,"pipeline":${JSON.stringify(op.pipeline)}`;
  if (op.requireAlias) meta += `,"require_alias":true`;
  const source = op.source as unknown;
  if (source === null || typeof source !== "object" || Array.isArray(source)) {
    return { invalid: "document source must be a JSON object" };
  }
  let body: string;
  try {
    body = stringifyExact(source);
  } catch (err) {
    return { invalid: `document source cannot be serialized: ${(err as Error).message}` };
  }
  const text = `{"index":${meta}}}\n${body}\n`;
  return { text, bytes: Buffer.byteLength(text) };
}

// Marks a bigint while JSON.stringify runs; NUL is escaped to \u0000 in the output, so a real
// string only collides if it consists of exactly this marker, a number and the marker again.
const BIGINT_MARK = "\u0000#bigint#";
const BIGINT_PLACEHOLDER = /"\\u0000#bigint#(-?\d+)\\u0000#bigint#"/g;

/**
 * `JSON.stringify` that writes bigints as exact JSON integers instead of throwing, so an `int8`
 * column kept as a bigint reaches the index unrounded. Plain objects take the fast path.
 */
export function stringifyExact(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError("value has no JSON form");
    return text;
  } catch (err) {
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
  }
  const marked = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "bigint" ? `${BIGINT_MARK}${v}${BIGINT_MARK}` : v,
  );
  return marked.replace(BIGINT_PLACEHOLDER, "$1");
}

/**
 * Groups operations, in order, into `_bulk` requests of at most `maxCount` operations and
 * `maxBytes` body bytes. An operation bigger than `maxBytes` on its own is given a request of its
 * own rather than refused: the engine's limit (`http.max_content_length`, 100 MB by default) is
 * usually far above ours, and if it is not, the engine's 413 names the document.
 *
 * @param sizes byte size of each operation, by position
 * @param positions which positions to plan (defaults to all), in the order to send them
 * @returns lists of positions, one list per request
 */
export function planChunks(
  sizes: readonly number[],
  maxCount: number,
  maxBytes: number,
  positions?: readonly number[],
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (const pos of positions ?? sizes.map((_, i) => i)) {
    const size = sizes[pos] ?? 0;
    if (current.length > 0 && (current.length >= maxCount || currentBytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(pos);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
