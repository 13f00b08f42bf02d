import { describe, expect, it } from "vitest";
import {
  BootstrapError,
  decodeRangeId,
  distinctSplits,
  encodeRangeId,
  rangesFromSplits,
} from "../../../lib/bootstrap";

describe("key ranges", () => {
  it("split keys tile the whole key space: first and last ranges are open", () => {
    const ranges = rangesFromSplits([["10"], ["20"]]);
    expect(ranges.map((r) => [r.from, r.to])).toEqual([
      [null, ["10"]],
      [["10"], ["20"]],
      [["20"], null],
    ]);
  });

  it("no split keys (small or empty table): one range over everything", () => {
    expect(rangesFromSplits([]).map((r) => [r.from, r.to])).toEqual([[null, null]]);
  });

  it("range ids carry their bounds and sort in key order", () => {
    const ranges = rangesFromSplits([
      ["a", "1"],
      ["a", "2"],
      ["b|c", 'x"y'],
    ]);
    for (const range of ranges) expect(decodeRangeId(range.id)).toEqual(range);
    const ids = ranges.map((r) => r.id);
    expect([...ids].sort()).toEqual(ids);
  });

  it("refuses bounds too long for the checkpoint store, with a fix", () => {
    expect(() => encodeRangeId(1, ["x".repeat(600)], ["y".repeat(600)])).toThrow(BootstrapError);
  });

  it("refuses ids it did not make", () => {
    for (const id of ["", "abc", "1:[", "1:[1,2]", "1:[[1],null]", "x:[null,null]"]) {
      expect(() => decodeRangeId(id), id).toThrow(BootstrapError);
    }
  });

  it("drops repeated split keys a sample may hold", () => {
    expect(distinctSplits([["1"], ["1"], ["2"], ["3"], ["3"]])).toEqual([["1"], ["2"], ["3"]]);
  });
});
