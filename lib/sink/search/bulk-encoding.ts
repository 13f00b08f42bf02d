/** The `_bulk` request body encoder: NDJSON action and source lines, one operation at a time. */
import { encodeSource } from "../source-encoding";
import { MAX_VERSION, type SinkOperation } from "../types";

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
  const body = encodeSource(op.source);
  if (typeof body !== "string") return body;
  const head = `{"index":${meta}}}\n`;
  // Counted in parts: the joined text is a rope, and measuring it would copy it into one string.
  return { text: `${head}${body}\n`, bytes: Buffer.byteLength(head) + Buffer.byteLength(body) + 1 };
}
