import { encodeSource } from "../source-encoding";
import type { StreamOperation } from "../types";
import { MAX_VERSION } from "../types";

/** Version of the wire format: the webhook body's `v`. Receivers refuse a version they do not know. */
export const STREAM_FORMAT_VERSION = 1;

/** One operation in the stream wire format, as JSON text without a line break. */
export interface EncodedRecord {
  json: string;
  /** UTF-8 byte length of `json`. */
  bytes: number;
}

/**
 * Encodes one operation as a stream record, or says why it cannot be:
 *
 * ```json
 * {"op":"index","index":"books","id":"42","version":"1234","source":{...}}
 * {"op":"delete","index":"books","id":"42","version":"1240"}
 * {"op":"truncate","index":"books","version":"1300"}
 * ```
 *
 * `version` is the commit LSN as a decimal string (a 64-bit integer; a JSON number would be
 * rounded by most parsers). `routing` is added when the operation has one. Receivers apply
 * last-writer-wins per `index` + `id`: a record whose version is below the stored one is ignored;
 * a `truncate` removes every document of the index whose version is at most its version.
 */
export function encodeStreamRecord(op: StreamOperation): EncodedRecord | { invalid: string } {
  if (typeof op.version !== "bigint") return { invalid: "version must be a bigint (the commit LSN)" };
  if (op.version < 0n || op.version > MAX_VERSION) {
    return { invalid: `version ${op.version} is outside 0 .. 2^63-1` };
  }
  if (typeof op.index !== "string" || op.index.length === 0) return { invalid: "index name is empty" };
  const version = `"${op.version}"`;
  if (op.kind === "truncate") {
    return measured(`{"op":"truncate","index":${JSON.stringify(op.index)},"version":${version}}`);
  }
  if (typeof op.id !== "string" || op.id.length === 0) return { invalid: "document id is empty" };
  let head = `{"op":"${op.kind}","index":${JSON.stringify(op.index)},"id":${JSON.stringify(op.id)},"version":${version}`;
  if (op.routing !== undefined) head += `,"routing":${JSON.stringify(op.routing)}`;
  if (op.kind === "delete") return measured(`${head}}`);
  const source = encodeSource(op.source);
  if (typeof source !== "string") return source;
  return measured(`${head},"source":${source}}`);
}

function measured(json: string): EncodedRecord {
  return { json, bytes: Buffer.byteLength(json) };
}
