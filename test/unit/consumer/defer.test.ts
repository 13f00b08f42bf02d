import { describe, expect, it } from "vitest";
import { Deferral, isDeferrable } from "../../../lib/consumer";
import type { KeysMessage, ParsedRecord, RangeMessage } from "../../../lib/queue";
import type { SinkOperation, SinkOutcome } from "../../../lib/sink";

const keysMessage = (keys: string[][]): KeysMessage => ({
  kind: "keys",
  index: "book",
  keys,
  lsn: 100n,
  sentAt: "2026-12-04T10:00:00.000Z",
});
const parsed = (id: string, message: ParsedRecord["message"]): ParsedRecord => ({
  record: { messageId: id, body: "{}", attributes: { ApproximateReceiveCount: "3" } },
  message,
});
const op = (id: string): SinkOperation => ({ kind: "index", index: "book", id, version: 100n, source: {} });
const outcome = (
  o: SinkOperation,
  status: SinkOutcome["status"],
  extra: Partial<SinkOutcome> = {},
): SinkOutcome => ({
  op: o,
  status,
  attempts: status === "retryable" && extra.errorType === "deadline" ? 0 : 1,
  ...extra,
});

describe("isDeferrable", () => {
  it("holds for writes the deadline left unsent and for pushback (429, timeout), not for other failures", () => {
    expect(isDeferrable(outcome(op("1"), "retryable", { errorType: "deadline" }))).toBe(true);
    expect(
      isDeferrable(
        outcome(op("1"), "retryable", { httpStatus: 429, errorType: "es_rejected_execution_exception" }),
      ),
    ).toBe(true);
    expect(isDeferrable(outcome(op("1"), "retryable", { errorType: "timeout" }))).toBe(true);
    expect(isDeferrable(outcome(op("1"), "retryable", { httpStatus: 503 }))).toBe(false);
    expect(isDeferrable(outcome(op("1"), "retryable", { errorType: "network" }))).toBe(false);
    expect(isDeferrable(outcome(op("1"), "rejected", { httpStatus: 400 }))).toBe(false);
    expect(isDeferrable(outcome(op("1"), "ok"))).toBe(false);
  });
});

describe("Deferral", () => {
  it("requeues a keys record with only the keys not yet written, right away after the deadline", () => {
    const [a, b, c] = [op("1"), op("2"), op("3")];
    const deferral = new Deferral();
    deferral.record(outcome(a, "ok"), ["r1"], ["1"]);
    deferral.record(outcome(b, "stale"), ["r1"], ["2"]);
    deferral.record(outcome(c, "retryable", { errorType: "deadline" }), ["r1"], ["3"]);
    const plan = deferral.plan(
      new Set(["r1"]),
      [parsed("r1", keysMessage([["1"], ["2"], ["3"], ["4"]]))],
      {},
    );
    // Key 4 had no write in this batch's outcomes (a key spelt otherwise): it stays in.
    expect([...plan.keys()]).toEqual([0]);
    expect(plan.get(0)?.map((d) => (d.message as KeysMessage).keys)).toEqual([[["3"], ["4"]]]);
  });

  it("waits the throttle delay after pushback, and keeps a whole range message", () => {
    const a = op("1");
    const deferral = new Deferral();
    deferral.record(
      outcome(a, "retryable", { httpStatus: 429, errorType: "es_rejected_execution_exception" }),
      ["range"],
      ["1"],
    );
    const range: RangeMessage = {
      kind: "range",
      index: "book",
      range: { from: null, to: null },
      lsn: 100n,
      bootstrapId: "b1",
      rangeId: "r0",
      sentAt: "2026-12-04T10:00:00.000Z",
    };
    const plan = deferral.plan(new Set(["range"]), [parsed("range", range)], { throttleDelaySeconds: 45 });
    expect(plan.get(45)?.map((d) => d.message)).toEqual([range]);
  });

  it("leaves records with any other retryable failure, or not failed at all, to SQS", () => {
    const [a, b, c] = [op("1"), op("2"), op("3")];
    const deferral = new Deferral();
    deferral.record(outcome(a, "retryable", { errorType: "deadline" }), ["mixed", "fine"], ["1"]);
    deferral.record(
      outcome(b, "retryable", { httpStatus: 503, errorType: "unavailable_shards_exception" }),
      ["mixed"],
      ["2"],
    );
    // A delete the routing step added has no key: its record is not requeued either.
    deferral.record(outcome(c, "retryable", { errorType: "deadline" }), ["routed"]);
    const plan = deferral.plan(
      new Set(["mixed", "routed"]),
      [
        parsed("mixed", keysMessage([["1"], ["2"]])),
        parsed("fine", keysMessage([["1"]])),
        parsed("routed", keysMessage([["3"]])),
      ],
      {},
    );
    expect(plan.size).toBe(0);
  });
});
