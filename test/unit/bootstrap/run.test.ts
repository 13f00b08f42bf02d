import { describe, expect, it } from "vitest";
import { rangesToSend } from "../../../lib/bootstrap";
import type { BootstrapProgress, RangeProgress } from "../../../lib/checkpoint";

const t0 = Date.parse("2026-01-21T10:00:00.000Z");
const at = (ms: number) => new Date(t0 + ms).toISOString();

function progress(ranges: Record<string, RangeProgress>): BootstrapProgress {
  return {
    bootstrapId: "book-20260121100000000",
    index: "book",
    lsn: "1",
    startedAt: at(0),
    completedAt: null,
    total: Object.keys(ranges).length,
    done: 0,
    running: 0,
    failed: 0,
    pending: 0,
    documents: 0,
    ranges,
  };
}

describe("the resume rule", () => {
  it("sends pending and failed ranges, re-sends sent ones only once they are overdue, never done ones", () => {
    const p = progress({
      "000003:x": { status: "pending", documents: 0, updatedAt: at(0) },
      "000001:x": { status: "done", documents: 5, updatedAt: at(0) },
      "000002:x": { status: "running", documents: 0, updatedAt: at(0) },
      "000004:x": { status: "running", documents: 0, updatedAt: at(50_000) },
      "000005:x": { status: "failed", documents: 0, updatedAt: at(59_000), error: "boom" },
    });
    expect(rangesToSend(p, t0 + 60_000, 60_000)).toEqual(["000002:x", "000003:x", "000005:x"]);
    expect(rangesToSend(p, t0 + 59_999, 60_000)).toEqual(["000003:x", "000005:x"]);
  });
});
