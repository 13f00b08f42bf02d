import { MessageFormatError } from "./errors";
import { isLsn, parseDecimalLsn } from "./lsn";
import {
  type KeyValue,
  MESSAGE_KINDS,
  MESSAGE_VERSION,
  type MessageKind,
  type QueueMessage,
  type RootKey,
} from "./message";

/** Wire fields each kind allows, in the order the encoder writes them. */
const FIELDS: Record<MessageKind, readonly string[]> = {
  keys: ["v", "kind", "index", "keys", "lsn", "xid", "sent_at"],
  range: ["v", "kind", "index", "range", "lsn", "bootstrap_id", "range_id", "sent_at"],
  truncate: ["v", "kind", "index", "lsn", "xid", "sent_at"],
  rebuild: ["v", "kind", "index", "lsn", "xid", "sent_at"],
};
const OPTIONAL = new Set(["xid"]);
const MAX_XID = 2 ** 32 - 1;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
// SQS refuses these two code points in a body (and in attribute values) although JSON allows them
// unescaped; everything else SQS refuses (controls, lone surrogates) JSON.stringify already escapes.
const SQS_UNSAFE = /[\uFFFE\uFFFF]/g;

/**
 * Serialises a value as JSON that SQS accepts byte for byte: `JSON.stringify` plus escaping of
 * U+FFFE and U+FFFF, which SQS rejects as message content.
 */
export function toSqsJson(value: unknown): string {
  return JSON.stringify(value).replace(SQS_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** The wire object of a message, fields in the documented order (not validated). */
export function toWire(message: QueueMessage): Record<string, unknown> {
  const lsn = isLsn(message.lsn) ? message.lsn.toString() : message.lsn;
  switch (message.kind) {
    case "keys":
      return {
        v: MESSAGE_VERSION,
        kind: "keys",
        index: message.index,
        keys: message.keys,
        lsn,
        ...(message.xid === undefined ? {} : { xid: message.xid }),
        sent_at: message.sentAt,
      };
    case "range":
      return {
        v: MESSAGE_VERSION,
        kind: "range",
        index: message.index,
        range: { from: message.range.from, to: message.range.to },
        lsn,
        bootstrap_id: message.bootstrapId,
        range_id: message.rangeId,
        sent_at: message.sentAt,
      };
    case "truncate":
    case "rebuild":
      return {
        v: MESSAGE_VERSION,
        kind: message.kind,
        index: message.index,
        lsn,
        ...(message.xid === undefined ? {} : { xid: message.xid }),
        sent_at: message.sentAt,
      };
  }
}

/**
 * Encodes a message as its version-1 JSON body. The result always decodes back to an equal message:
 * the encoder runs the decoder's checks and throws {@link MessageFormatError} (with the JSON path)
 * rather than send something a consumer would dead-letter, e.g. an unsafe integer key value.
 */
export function encodeMessage(message: QueueMessage): string {
  if (!isLsn(message.lsn)) {
    throw new MessageFormatError(`must be a bigint between 0 and 2^64-1, got ${String(message.lsn)}`, {
      path: "$.lsn",
      fix: "pass the commit LSN as a bigint",
    });
  }
  const wire = toWire(message);
  fromWire(wire);
  return toSqsJson(wire);
}

/**
 * Decodes a message body strictly. Throws {@link MessageFormatError}:
 * - with reason `unknown message version N` (no path) when `v` is an integer other than 1;
 * - with the JSON path of the first problem otherwise (not JSON, missing or mistyped field,
 *   unknown field, empty key list, key arity mismatch, LSN out of range, ...).
 */
export function decodeMessage(body: string): QueueMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new MessageFormatError(`not valid JSON (${(error as Error).message})`, { path: "$", cause: error });
  }
  return fromWire(parsed);
}

function fail(path: string, reason: string): never {
  throw new MessageFormatError(reason, { path });
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fromWire(wire: unknown): QueueMessage {
  if (!isObject(wire)) fail("$", `must be a JSON object, got ${describe(wire)}`);
  const v = wire.v;
  if (v === undefined) fail("$.v", 'missing: every slotsync message starts with "v" (the format version)');
  if (typeof v !== "number" || !Number.isInteger(v)) fail("$.v", `must be an integer, got ${describe(v)}`);
  if (v !== MESSAGE_VERSION) {
    throw new MessageFormatError(`unknown message version ${v}`, {
      fix: `this consumer reads version ${MESSAGE_VERSION}; deploy the slotsync version that wrote it, then redrive the DLQ`,
    });
  }
  const kind = wire.kind;
  if (typeof kind !== "string" || !(MESSAGE_KINDS as readonly string[]).includes(kind)) {
    fail("$.kind", `must be one of ${MESSAGE_KINDS.join(", ")}, got ${describe(kind)}`);
  }
  const k = kind as MessageKind;
  for (const field of FIELDS[k]) {
    if (wire[field] === undefined && !OPTIONAL.has(field)) fail(`$.${field}`, "missing");
  }
  for (const field of Object.keys(wire)) {
    if (!FIELDS[k].includes(field)) fail(`$.${field}`, `unknown field in a version 1 "${k}" message`);
  }
  const index = nonEmptyString(wire.index, "$.index");
  const lsn = decimalLsn(wire.lsn);
  const sentAt = isoTime(wire.sent_at, "$.sent_at");
  switch (k) {
    case "keys": {
      const keys = keyList(wire.keys, "$.keys");
      const xid = optionalXid(wire.xid);
      return { kind: "keys", index, keys, lsn, ...(xid === undefined ? {} : { xid }), sentAt };
    }
    case "range": {
      const range = wire.range;
      if (!isObject(range)) fail("$.range", `must be an object {"from","to"}, got ${describe(range)}`);
      for (const field of Object.keys(range)) {
        if (field !== "from" && field !== "to") fail(`$.range.${field}`, "unknown field");
      }
      if (!("from" in range)) fail("$.range.from", "missing (use null for unbounded)");
      if (!("to" in range)) fail("$.range.to", "missing (use null for unbounded)");
      const from = range.from === null ? null : rootKey(range.from, "$.range.from");
      const to = range.to === null ? null : rootKey(range.to, "$.range.to");
      if (from && to && from.length !== to.length) {
        fail("$.range.to", `has ${to.length} values but "from" has ${from.length}`);
      }
      return {
        kind: "range",
        index,
        range: { from, to },
        lsn,
        bootstrapId: nonEmptyString(wire.bootstrap_id, "$.bootstrap_id"),
        rangeId: nonEmptyString(wire.range_id, "$.range_id"),
        sentAt,
      };
    }
    case "truncate":
    case "rebuild": {
      const xid = optionalXid(wire.xid);
      return { kind: k, index, lsn, ...(xid === undefined ? {} : { xid }), sentAt };
    }
  }
}

function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) {
    fail(path, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function decimalLsn(value: unknown): bigint {
  if (typeof value !== "string") {
    fail(
      "$.lsn",
      `must be a decimal string (a JSON number cannot hold a 64-bit LSN), got ${describe(value)}`,
    );
  }
  const lsn = parseDecimalLsn(value);
  if (lsn === undefined) fail("$.lsn", `must be an unsigned 64-bit integer in decimal, got "${value}"`);
  return lsn;
}

function isoTime(value: unknown, path: string): string {
  if (typeof value !== "string" || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    fail(path, `must be an ISO 8601 date-time, got ${describe(value)}`);
  }
  return value;
}

function optionalXid(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_XID) {
    fail("$.xid", `must be a 32-bit transaction id (0..${MAX_XID}), got ${describe(value)}`);
  }
  return value;
}

function keyList(value: unknown, path: string): RootKey[] {
  if (!Array.isArray(value)) fail(path, `must be an array of keys, got ${describe(value)}`);
  if (value.length === 0) fail(path, "must contain at least one key");
  const keys: RootKey[] = [];
  let arity = 0;
  for (const [i, item] of value.entries()) {
    const key = rootKey(item, `${path}[${i}]`);
    if (i === 0) arity = key.length;
    else if (key.length !== arity)
      fail(`${path}[${i}]`, `has ${key.length} values but the first key has ${arity}`);
    keys.push(key);
  }
  return keys;
}

/**
 * Checks one root key (an array of primary-key values) and returns it; throws
 * {@link MessageFormatError} naming `path` when a value cannot travel exactly.
 */
export function rootKey(value: unknown, path: string): RootKey {
  if (!Array.isArray(value)) fail(path, `must be an array of primary-key values, got ${describe(value)}`);
  if (value.length === 0) fail(path, "must contain at least one primary-key value");
  for (const [i, item] of value.entries()) keyValue(item, `${path}[${i}]`);
  return value as KeyValue[];
}

function keyValue(value: unknown, path: string): void {
  if (typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) fail(path, "must be a finite number");
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      fail(path, `integer ${value} is beyond 2^53 and has lost precision; send it as a string`);
    }
    return;
  }
  fail(path, `must be a string, number or boolean, got ${describe(value)}`);
}
