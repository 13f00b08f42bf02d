import { describe, expect, it } from "vitest";
import { unchanged } from "../../../lib/resolve/anchors";
import type { RowChange } from "../../../lib/resolve/types";

const update = (oldRow: Record<string, unknown>, newRow: Record<string, unknown>): RowChange => ({
  table: { schema: "public", name: "customer" },
  action: "U",
  oldRow,
  newRow,
});

describe("unchanged", () => {
  it("skips an update that left every used column equal, whatever else changed", () => {
    const used = new Set(["id", "name"]);
    expect(unchanged(update({ id: 1, name: "a", stock: 1 }, { id: 1, name: "a", stock: 2 }), used)).toBe(
      true,
    );
    expect(unchanged(update({ id: 1, name: "a" }, { id: 1, name: "b" }), used)).toBe(false);
  });

  it("for a node that takes every column, compares every column, also one added since resolving", () => {
    expect(
      unchanged(update({ id: 1, name: "a", tier: null }, { id: 1, name: "a", tier: "gold" }), "all"),
    ).toBe(false);
    expect(unchanged(update({ id: 1, name: "a", tier: "x" }, { id: 1, name: "a", tier: "x" }), "all")).toBe(
      true,
    );
  });

  it("cannot tell without a full old row, nor for inserts and deletes", () => {
    // With the default replica identity the old row holds the key only.
    expect(unchanged(update({ id: 1 }, { id: 1, name: "a" }), "all")).toBe(false);
    expect(unchanged(update({ id: 1 }, { id: 1, name: "a" }), new Set(["id", "name"]))).toBe(false);
    expect(
      unchanged(
        { table: { schema: "public", name: "t" }, action: "I", newRow: { id: 1 }, oldRow: undefined },
        "all",
      ),
    ).toBe(false);
    expect(unchanged(update({ id: 1 }, { id: 1 }), undefined)).toBe(false);
  });
});
