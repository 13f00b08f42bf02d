import { describe, expect, it } from "vitest";
import {
  decodeMessage,
  encodeMessage,
  type KeysMessage,
  MAX_LSN,
  MessageFormatError,
  parseDecimalLsn,
  type QueueMessage,
} from "../../../lib/queue";

const SENT = "2026-11-21T10:00:00.000Z";
const BIG = 2n ** 63n + 12_345n; // far beyond 2^53

const keys: KeysMessage = {
  kind: "keys",
  index: "book",
  keys: [
    ["978-0", 1],
    ["978-1", 2],
  ],
  lsn: BIG,
  xid: 7412,
  sentAt: SENT,
};

/** Decodes and returns the error, failing the test when there is none. */
function formatError(body: string): MessageFormatError {
  try {
    decodeMessage(body);
  } catch (error) {
    expect(error).toBeInstanceOf(MessageFormatError);
    return error as MessageFormatError;
  }
  throw new Error(`expected ${body} to be refused`);
}

function body(fields: Record<string, unknown>): string {
  return JSON.stringify({
    v: 1,
    kind: "keys",
    index: "book",
    keys: [[1]],
    lsn: "5",
    sent_at: SENT,
    ...fields,
  });
}

describe("encodeMessage", () => {
  it("writes the documented JSON, fields in order, the LSN as an exact decimal string", () => {
    expect(encodeMessage(keys)).toBe(
      `{"v":1,"kind":"keys","index":"book","keys":[["978-0",1],["978-1",2]],"lsn":"${BIG}","xid":7412,"sent_at":"${SENT}"}`,
    );
    expect(
      encodeMessage({
        kind: "range",
        index: "book",
        range: { from: ["978-0"], to: null },
        lsn: 23_876_543_000n,
        bootstrapId: "b1",
        rangeId: "r00017",
        sentAt: SENT,
      }),
    ).toBe(
      `{"v":1,"kind":"range","index":"book","range":{"from":["978-0"],"to":null},"lsn":"23876543000","bootstrap_id":"b1","range_id":"r00017","sent_at":"${SENT}"}`,
    );
    expect(encodeMessage({ kind: "truncate", index: "book", lsn: MAX_LSN, sentAt: SENT })).toBe(
      `{"v":1,"kind":"truncate","index":"book","lsn":"18446744073709551615","sent_at":"${SENT}"}`,
    );
    expect(encodeMessage({ kind: "rebuild", index: "book", lsn: 9n, xid: 3, sentAt: SENT })).toBe(
      `{"v":1,"kind":"rebuild","index":"book","lsn":"9","xid":3,"sent_at":"${SENT}"}`,
    );
  });

  it("round-trips every kind exactly, LSNs beyond 2^53 included", () => {
    const messages: QueueMessage[] = [
      keys,
      { kind: "keys", index: "a", keys: [[true], ["x"], [1.5]], lsn: 0n, sentAt: SENT },
      {
        kind: "range",
        index: "a",
        range: { from: null, to: null },
        lsn: BIG,
        bootstrapId: "b",
        rangeId: "r",
        sentAt: SENT,
      },
      {
        kind: "range",
        index: "a",
        range: { from: [1, "a"], to: [9, "z"] },
        lsn: 1n,
        bootstrapId: "b",
        rangeId: "r",
        sentAt: SENT,
      },
      { kind: "truncate", index: "a", lsn: BIG, xid: 4_294_967_295, sentAt: SENT },
      { kind: "rebuild", index: "a", lsn: BIG, sentAt: SENT },
      { kind: "rebuild", index: "a", lsn: 7n, xid: 0, sentAt: SENT },
    ];
    for (const message of messages) {
      const decoded = decodeMessage(encodeMessage(message));
      expect(decoded).toEqual(message);
      expect(decoded.lsn).toBe(message.lsn);
    }
  });

  it("escapes U+FFFE and U+FFFF, which SQS refuses, and keeps the value", () => {
    const odd: KeysMessage = { ...keys, keys: [["a\uFFFFb\uFFFE"], ["\uD800lone"]] };
    const encoded = encodeMessage(odd);
    expect(encoded).not.toMatch(/[\uFFFE\uFFFF\uD800]/);
    expect(encoded).toContain("a\\uffffb\\ufffe");
    expect(decodeMessage(encoded)).toEqual(odd);
  });

  it("refuses to encode what a consumer would have to dead-letter", () => {
    expect(() => encodeMessage({ ...keys, keys: [[2 ** 60]] })).toThrow(
      /\$\.keys\[0\]\[0\]: integer .* send it as a string/,
    );
    expect(() => encodeMessage({ ...keys, keys: [] })).toThrow(/\$\.keys: must contain at least one key/);
    expect(() => encodeMessage({ ...keys, lsn: 2n ** 64n })).toThrow(/\$\.lsn: must be a bigint/);
    expect(() => encodeMessage({ ...keys, lsn: 5 as unknown as bigint })).toThrow(MessageFormatError);
    expect(() => encodeMessage({ ...keys, index: "" })).toThrow(/\$\.index: must be a non-empty string/);
    expect(() => encodeMessage({ ...keys, sentAt: "yesterday" })).toThrow(/\$\.sent_at/);
  });
});

describe("decodeMessage", () => {
  it("names an unknown version, without a path, whatever else the body holds", () => {
    for (const [text, version] of [
      ['{"v":2,"kind":"keys","index":"book","keys":[[1]],"lsn":"5","sent_at":"x"}', 2],
      ['{"v":0}', 0],
      ['{"v":-3,"whatever":true}', -3],
    ] as const) {
      const error = formatError(text);
      expect(error.reason).toBe(`unknown message version ${version}`);
      expect(error.path).toBeUndefined();
      expect(error.retryable).toBe(false);
    }
  });

  it.each([
    ["not json", "$", /not valid JSON/],
    ["[1,2]", "$", /must be a JSON object, got an array/],
    ["null", "$", /got null/],
    ['{"kind":"keys"}', "$.v", /missing/],
    ['{"v":"1"}', "$.v", /must be an integer/],
    ['{"v":1.5}', "$.v", /must be an integer/],
    [body({ kind: "upsert" }), "$.kind", /must be one of keys, range, truncate, rebuild/],
    [body({ index: undefined }), "$.index", /missing/],
    [body({ index: 3 }), "$.index", /non-empty string/],
    [body({ keys: [] }), "$.keys", /at least one key/],
    [body({ keys: {} }), "$.keys", /must be an array/],
    [body({ keys: [[1], []] }), "$.keys[1]", /at least one primary-key value/],
    [body({ keys: [[1], [1, 2]] }), "$.keys[1]", /has 2 values but the first key has 1/],
    [body({ keys: [[1, { a: 1 }]] }), "$.keys[0][1]", /string, number or boolean, got an object/],
    [body({ keys: [[null]] }), "$.keys[0][0]", /got null/],
    [body({ keys: [[-1]] }).replace("-1", "9007199254740993"), "$.keys[0][0]", /beyond 2\^53/],
    [body({ keys: ["1"] }), "$.keys[0]", /must be an array of primary-key values/],
    [body({ lsn: 5 }), "$.lsn", /decimal string/],
    [body({ lsn: "05" }), "$.lsn", /unsigned 64-bit/],
    [body({ lsn: "-1" }), "$.lsn", /unsigned 64-bit/],
    [body({ lsn: "18446744073709551616" }), "$.lsn", /unsigned 64-bit/],
    [body({ xid: -1 }), "$.xid", /32-bit/],
    [body({ xid: 2 ** 32 }), "$.xid", /32-bit/],
    [body({ sent_at: "2026-11-21" }), "$.sent_at", /ISO 8601/],
    [body({ extra: 1 }), "$.extra", /unknown field in a version 1 "keys" message/],
    [body({ kind: "truncate", keys: undefined, bootstrap_id: "b" }), "$.bootstrap_id", /unknown field/],
    [body({ kind: "range", keys: undefined }), "$.range", /missing/],
    [
      body({ kind: "range", keys: undefined, range: { from: null }, bootstrap_id: "b", range_id: "r" }),
      "$.range.to",
      /missing \(use null for unbounded\)/,
    ],
    [
      body({
        kind: "range",
        keys: undefined,
        range: { from: [1], to: [1, 2] },
        bootstrap_id: "b",
        range_id: "r",
      }),
      "$.range.to",
      /has 2 values but "from" has 1/,
    ],
    [
      body({
        kind: "range",
        keys: undefined,
        range: { from: null, to: null, step: 1 },
        bootstrap_id: "b",
        range_id: "r",
      }),
      "$.range.step",
      /unknown field/,
    ],
    [
      body({
        kind: "range",
        keys: undefined,
        range: { from: null, to: null },
        bootstrap_id: "",
        range_id: "r",
      }),
      "$.bootstrap_id",
      /non-empty string/,
    ],
  ])("refuses %s at %s", (text, path, reason) => {
    const error = formatError(text);
    expect(error.path).toBe(path);
    expect(error.reason).toMatch(reason);
    expect(error.reason.startsWith(`${path}: `)).toBe(true);
    expect(error.where).toBe(path);
  });

  it("accepts the largest LSN and an offset time", () => {
    const decoded = decodeMessage(
      body({ lsn: "18446744073709551615", sent_at: "2026-11-21T11:00:00+01:00" }),
    );
    expect(decoded.lsn).toBe(MAX_LSN);
  });
});

describe("decimal LSNs", () => {
  it("parses decimal LSNs strictly", () => {
    expect(parseDecimalLsn("0")).toBe(0n);
    expect(parseDecimalLsn("18446744073709551615")).toBe(MAX_LSN);
    for (const bad of ["", "00", "1e5", " 1", "1.0", "+1", "18446744073709551616", "999999999999999999999"]) {
      expect(parseDecimalLsn(bad)).toBeUndefined();
    }
  });
});
