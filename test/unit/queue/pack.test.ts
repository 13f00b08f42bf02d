import { describe, expect, it } from "vitest";
import {
  bodyBudget,
  DEFAULT_KEYS_PER_MESSAGE,
  decodeMessage,
  encodeMessage,
  groupBatches,
  type KeysMessage,
  MessageFormatError,
  packKeys,
  type RootKey,
  resolveLimits,
  SQS_LIMITS,
  utf8Bytes,
} from "../../../lib/queue";

const LSN = 2n ** 62n + 3n;
const SENT = "2026-11-21T10:00:00.000Z";

function compositeKeys(n: number): RootKey[] {
  return Array.from({ length: n }, (_, i) => [`tenant-${i % 7}`, i, `zażółć-${i}-🐄`]);
}

function allKeys(messages: KeysMessage[]): RootKey[] {
  return messages.flatMap((m) => m.keys);
}

describe("packKeys", () => {
  it("packs 100k keys into few messages, each within the body budget and nearly full", () => {
    const keys = compositeKeys(100_000);
    // Without a key cap, the byte budget alone decides.
    const messages = packKeys({
      index: "book",
      keys,
      lsn: LSN,
      xid: 12,
      sentAt: SENT,
      maxKeys: Number.POSITIVE_INFINITY,
    });
    const budget = bodyBudget(SQS_LIMITS);
    const sizes = messages.map((m) => utf8Bytes(encodeMessage(m)));
    expect(messages.length).toBeLessThanOrEqual(Math.ceil(sizes.reduce((a, b) => a + b, 0) / budget) + 1);
    expect(messages.length).toBeLessThan(40);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(budget);
    // Every message but the last was closed only because the next key would not fit.
    for (const size of sizes.slice(0, -1)) expect(size).toBeGreaterThan(budget - 100);
    expect(allKeys(messages)).toEqual(keys);
    for (const m of messages) {
      expect(m).toMatchObject({ kind: "keys", index: "book", lsn: LSN, xid: 12, sentAt: SENT });
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }
  });

  it("caps the keys of one message, so one consumer batch stays bounded", () => {
    const keys = compositeKeys(2500);
    const messages = packKeys({ index: "book", keys, lsn: LSN, sentAt: SENT });
    expect(messages.map((m) => m.keys.length)).toEqual([
      DEFAULT_KEYS_PER_MESSAGE,
      DEFAULT_KEYS_PER_MESSAGE,
      500,
    ]);
    expect(packKeys({ index: "book", keys, lsn: LSN, sentAt: SENT, maxKeys: 100 })).toHaveLength(25);
    expect(allKeys(messages)).toEqual(keys);
  });

  it("computes sizes exactly, multi-byte and escaped characters included", () => {
    const limits = { maxMessageBytes: 2048, maxBatchBytes: 2048, headroomBytes: 512 };
    const keys: RootKey[] = Array.from({ length: 300 }, (_, i) => [`ü\uFFFF"\\${i}`, i]);
    const messages = packKeys({ index: "i", keys, lsn: 1n, sentAt: SENT }, limits);
    const budget = bodyBudget(resolveLimits(limits));
    for (const m of messages.slice(0, -1)) {
      const size = utf8Bytes(encodeMessage(m));
      expect(size).toBeLessThanOrEqual(budget);
      // Adding the first key of the next message would have broken the budget.
      const next = messages[messages.indexOf(m) + 1]?.keys[0] ?? [];
      expect(utf8Bytes(encodeMessage({ ...m, keys: [...m.keys, next] }))).toBeGreaterThan(budget);
    }
    expect(allKeys(messages)).toEqual(keys);
  });

  it("sends each key once, and nothing for no keys", () => {
    const messages = packKeys({ index: "i", keys: [[1], [2], [1], ["1"], [2]], lsn: 1n, sentAt: SENT });
    expect(allKeys(messages)).toEqual([[1], [2], ["1"]]);
    expect(packKeys({ index: "i", keys: [], lsn: 1n })).toEqual([]);
  });

  it("accepts any iterable and stamps sent_at when not given", () => {
    function* gen() {
      yield [1] as const;
      yield [2] as const;
    }
    const [message] = packKeys({ index: "i", keys: gen(), lsn: 1n });
    expect(message?.keys).toEqual([[1], [2]]);
    expect(Date.parse(message?.sentAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
  });

  it("refuses keys that cannot travel, naming the key", () => {
    const pack = (keys: RootKey[]) => () =>
      packKeys({ index: "i", keys, lsn: 1n }, { maxMessageBytes: 1024, headroomBytes: 0 });
    expect(pack([[1], [1, 2]])).toThrow(/keys\[1\]: has 2 values but the first key has 1/);
    expect(pack([[1], [Number.NaN]])).toThrow(/keys\[1\]\[0\]: must be a finite number/);
    expect(pack([["x".repeat(2000)]])).toThrow(/keys\[0\]: key of 2004 bytes does not fit/);
    expect(pack([[{} as unknown as string]])).toThrow(MessageFormatError);
  });
});

describe("limits and batches", () => {
  it("refuses limits that cannot work", () => {
    expect(() => resolveLimits({ maxBatchEntries: 0 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxMessageBytes: 1000, headroomBytes: 900 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxBatchBytes: 1000 })).toThrow(RangeError);
    expect(resolveLimits()).toEqual(SQS_LIMITS);
  });

  it("groups at most 10 entries and 256 KiB per call, in order", () => {
    const sizes = [1000, 200_000, 60_000, 5000, 5000, 262_144, ...Array.from({ length: 25 }, () => 100)];
    const entries = sizes.map((bytes, i) => ({ bytes, i }));
    const batches = groupBatches(entries, SQS_LIMITS);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(SQS_LIMITS.maxBatchBytes);
    }
    expect(batches.flat().map((e) => e.i)).toEqual(entries.map((e) => e.i));
    expect(batches.map((b) => b.length)).toEqual([3, 2, 1, 10, 10, 5]);
  });
});
