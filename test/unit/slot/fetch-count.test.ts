import { describe, expect, it } from "vitest";
import { DEFAULT_FETCH_BYTES, fetchCount } from "../../../lib/slot";

describe("fetchCount", () => {
  it("sizes a FETCH by bytes: many narrow rows, few wide ones, never none and never above the row cap", () => {
    // 200-byte changes: the row cap decides.
    expect(fetchCount(200, DEFAULT_FETCH_BYTES, 5000)).toBe(5000);
    // 100 KB changes (a 50 KB row, new and old, under REPLICA IDENTITY FULL): 83 rows, about 8 MiB.
    expect(fetchCount(100_000, DEFAULT_FETCH_BYTES, 5000)).toBe(83);
    // A single change larger than the budget still comes, one at a time.
    expect(fetchCount(20_000_000, DEFAULT_FETCH_BYTES, 5000)).toBe(1);
    // Nothing measured yet: the cap.
    expect(fetchCount(0, DEFAULT_FETCH_BYTES, 5000)).toBe(5000);
  });
});
