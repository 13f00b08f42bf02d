import { describe, expect, it } from "vitest";
import { planChunks } from "../../../../lib/sink/stream/chunks";

describe("planChunks", () => {
  it("cuts by count", () => {
    expect(planChunks([1, 1, 1, 1, 1], 2, 1000)).toEqual([[0, 1], [2, 3], [4]]);
  });

  it("cuts by bytes, and sends an oversized operation alone", () => {
    expect(planChunks([40, 40, 30, 150, 10, 10], 100, 100)).toEqual([[0, 1], [2], [3], [4, 5]]);
  });

  it("fills a chunk exactly to the byte cap", () => {
    expect(planChunks([50, 50, 1], 100, 100)).toEqual([[0, 1], [2]]);
  });

  it("plans only the positions asked for, in their order", () => {
    expect(planChunks([10, 10, 10, 10], 2, 1000, [3, 1, 0])).toEqual([[3, 1], [0]]);
    expect(planChunks([], 2, 1000)).toEqual([]);
  });
});
