import { describe, expect, it } from "vitest";
import { changeFilterMatches, passesChangeFilters } from "../../../lib/resolve";
import type { ResolvedNode } from "../../../lib/schema";
import { resolveIndex } from "../document/resolved";

describe("change filter comparisons on WAL values", () => {
  const m = (op: string, value: string | number | boolean | null, actual: unknown) =>
    changeFilterMatches({ op: op as "eq", value }, actual);

  it("compares numbers as numbers, exactly for integers beyond 2^53", () => {
    expect(m("gt", 9, "10")).toBe(true);
    expect(m("lt", "9", "10")).toBe(false);
    expect(m("ge", 2.5, "2.50")).toBe(true);
    expect(m("gt", "9007199254740992", "9007199254740993")).toBe(true);
    expect(m("eq", 1, "1")).toBe(true);
  });

  it("compares booleans, text by code point, contains and null", () => {
    expect(m("eq", true, true)).toBe(true);
    expect(m("ne", true, false)).toBe(true);
    expect(m("lt", "b", "a")).toBe(true);
    expect(m("ge", "2024-05-01", "2024-05-01 10:00:00")).toBe(true);
    expect(m("contains", "mp", "example")).toBe(true);
    expect(m("eq", null, null)).toBe(true);
    expect(m("ne", "x", null)).toBe(true);
    expect(m("gt", 1, null)).toBe(false);
  });
});

describe("passesChangeFilters", () => {
  const index = resolveIndex({
    nodes: { table: "orders", columns: ["id", "status"] },
    slotsync: {
      rules: [
        {
          node: "$root",
          type: "filter",
          column: "status",
          op: "ne",
          value: "draft",
          operations: ["insert", "delete"],
        },
      ],
    },
  });
  const node = index.root as ResolvedNode;
  const table = { schema: "public", name: "orders" };

  it("drops only changes of the listed operations whose row fails", () => {
    expect(
      passesChangeFilters(node, {
        table,
        action: "I",
        newRow: { id: "1", status: "draft" },
        oldRow: undefined,
      }),
    ).toBe(false);
    expect(
      passesChangeFilters(node, {
        table,
        action: "I",
        newRow: { id: "1", status: "paid" },
        oldRow: undefined,
      }),
    ).toBe(true);
    // update is not listed: passes whatever the row says.
    expect(
      passesChangeFilters(node, {
        table,
        action: "U",
        newRow: { id: "1", status: "draft" },
        oldRow: undefined,
      }),
    ).toBe(true);
    expect(
      passesChangeFilters(node, {
        table,
        action: "D",
        newRow: undefined,
        oldRow: { id: "1", status: "draft" },
      }),
    ).toBe(false);
  });

  it("lets a change through when its row does not carry the column (delete without REPLICA IDENTITY FULL)", () => {
    expect(passesChangeFilters(node, { table, action: "D", newRow: undefined, oldRow: { id: "1" } })).toBe(
      true,
    );
  });
});
