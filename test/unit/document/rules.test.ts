import { describe, expect, it } from "vitest";
import { buildKeysQuery, buildRangeQuery, createTransformer } from "../../../lib/document";
import { filterSql } from "../../../lib/document/sql-filter";
import { maskText } from "../../../lib/document/transform";
import type { ResolvedFilter } from "../../../lib/schema";
import { resolveIndex } from "./resolved";

const filter = (over: Partial<ResolvedFilter>): ResolvedFilter => ({
  path: "[0].slotsync.rules[0]",
  column: "status",
  type: "text",
  baseType: "text",
  op: "eq",
  value: "paid",
  ...over,
});

describe("row filters in SQL", () => {
  it("casts the literal to the column's type and quotes hostile text", () => {
    expect(filterSql("n0", filter({}))).toBe(`n0."status" = CAST('paid' AS text)`);
    expect(filterSql("n0", filter({ op: "ne", value: "it's" }))).toBe(
      `n0."status" IS DISTINCT FROM CAST('it''s' AS text)`,
    );
    expect(filterSql("n1", filter({ column: "total", type: "numeric", op: "ge", value: 10 }))).toBe(
      `n1."total" >= CAST('10' AS numeric)`,
    );
    expect(filterSql("n0", filter({ op: "contains", value: "a%" }))).toBe(
      `strpos(n0."status"::text, 'a%') > 0`,
    );
    expect(filterSql("n0", filter({ op: "eq", value: null }))).toBe(`n0."status" IS NULL`);
    expect(filterSql("n0", filter({ op: "ne", value: null }))).toBe(`n0."status" IS NOT NULL`);
  });

  const index = resolveIndex({
    nodes: {
      table: "customer",
      columns: ["id", "name"],
      children: [
        { table: "orders", columns: ["id"], relationship: { type: "one_to_many", variant: "object" } },
      ],
    },
    slotsync: {
      rules: [
        { node: "$root", type: "filter", column: "vip", op: "eq", value: true },
        { node: "$root.orders", type: "filter", column: "status", op: "ne", value: "void" },
      ],
    },
  });

  it("applies root filters to key and range queries, child filters inside the child's subquery", () => {
    const keys = buildKeysQuery(index, [["1"]]).text;
    expect(keys).toContain(`WHERE n0."id" = k.k0::integer AND n0."vip" = CAST('true' AS boolean)`);
    expect(keys).toContain(
      `WHERE n1."customer_id" = n0."id" AND n1."status" IS DISTINCT FROM CAST('void' AS text))`,
    );
    const range = buildRangeQuery(index, { after: ["5"], limit: 10 }).text;
    expect(range).toContain(`WHERE n0."id" > $1::integer AND n0."vip" = CAST('true' AS boolean)`);
  });
});

describe("regex and mask rules", () => {
  it("masks all but the first and last character, by code point", () => {
    expect(maskText("secret", "*")).toBe("s****t");
    expect(maskText("ab", "*")).toBe("ab");
    expect(maskText("a😀b😀", "#")).toBe("a##😀");
  });

  it("rewrites strings and string arrays before PGSync's transforms, in schema order", () => {
    const index = resolveIndex({
      nodes: {
        table: "customer",
        columns: ["id", "name", "email", "doc->>nick"],
        transform: { rename: { email: "mail" }, replace: { name: { "-": "+" } } },
        children: [
          {
            table: "orders",
            columns: ["id", "status"],
            relationship: { type: "one_to_many", variant: "object" },
          },
        ],
      },
      slotsync: {
        rules: [
          { node: "$root", type: "regex", column: "name", pattern: "(\\w+) (\\w+)", replace: "$2-$1" },
          { node: "$root", type: "mask", column: "email" },
          { node: "$root", type: "mask", column: "doc_nick", mask_char: "." },
          { node: "$root.orders", type: "regex", column: "status", pattern: "^P", replace: "p", flags: "i" },
        ],
      },
    });
    const transform = createTransformer(index);
    if (!transform) throw new Error("expected a transformer");
    expect(
      transform({
        id: 1,
        name: "ada lovelace",
        mail: "ada@example.com",
        doc_nick: null,
        orders: [
          { id: 1, status: "Paid" },
          { id: 2, status: 7 },
        ],
      }),
    ).toEqual({
      id: 1,
      // regex first (lovelace-ada), then PGSync's replace (- -> +).
      name: "lovelace+ada",
      mail: "a*************m",
      doc_nick: null,
      orders: [
        { id: 1, status: "paid" },
        { id: 2, status: 7 },
      ],
    });
  });
});

describe("regex rules: linear time and a time budget", () => {
  const index = resolveIndex({
    nodes: { table: "customer", columns: ["id", "name"] },
    slotsync: {
      rules: [
        { node: "$root", type: "regex", column: "name", pattern: "(a+)+$", replace: "<$1>" },
        { node: "$root", type: "regex", column: "name", pattern: "(?<first>b)", replace: "[$<first>$&$$]" },
      ],
    },
  });

  it("runs (a+)+$ over a 100,000-character field without backtracking", () => {
    const transform = createTransformer(index);
    const field = `${"a".repeat(100_000)}!`;
    expect(transform?.({ id: 1, name: field })).toEqual({ id: 1, name: field });
    const doc = transform?.({ id: 2, name: "b-aaa" });
    expect(doc).toEqual({ id: 2, name: "[bb$]-<aaa>" });
  });

  it("fails a document past its budget, naming the rule, and starts each document afresh", () => {
    let clock = 0;
    const transform = createTransformer(index, { budgetMs: 10, now: () => clock });
    expect(() =>
      transform?.({
        id: 1,
        get name() {
          clock += 11;
          return "a";
        },
      }),
    ).toThrow(
      /the rules took longer than 10 ms on this document \(stopped before the regex rule at \[0\]\.slotsync\.rules\[0\]\)/,
    );
    expect(transform?.({ id: 2, name: "b" })).toEqual({ id: 2, name: "[bb$]" });
  });
});
