import { describe, expect, it } from "vitest";
import { createTransformer, DocumentError, type JsonObject } from "../../../lib/document";
import { pythonStr, pythonTruthy } from "../../../lib/document/python-format";
import { resolveIndex } from "./resolved";

function transformer(nodes: unknown) {
  const transform = createTransformer(resolveIndex({ nodes }));
  if (!transform) throw new Error("expected a transformer");
  return transform;
}

const orders = (extra: Record<string, unknown> = {}) => ({
  table: "orders",
  columns: ["id", "status", "total"],
  relationship: { type: "one_to_many", variant: "object" },
  ...extra,
});

describe("createTransformer", () => {
  it("returns undefined when nothing needs values (rename happens in SQL)", () => {
    expect(
      createTransformer(resolveIndex({ nodes: { table: "customer", transform: { rename: { id: "x" } } } })),
    ).toBeUndefined();
  });

  it("replaces every occurrence in strings and string arrays, by field name before or after rename", () => {
    const t = transformer({
      table: "customer",
      columns: ["id", "name", "email", "doc"],
      transform: {
        rename: { name: "full_name" },
        replace: { name: { a: "o", o: "0" }, email: { "@": " at " }, doc: { x: "y" }, id: { "1": "2" } },
      },
    });
    expect(t({ id: 1, full_name: "ana banana", email: "a@b", doc: ["x1", 7, { x: "x" }] })).toEqual({
      id: 1,
      // Pairs apply in order, each to every occurrence: a->o gives "ono bonono", then o->0.
      full_name: "0n0 b0n0n0",
      email: "a at b",
      doc: ["y1", 7, { x: "x" }],
    });
  });

  it("replaces in scalar children", () => {
    const t = transformer({
      table: "customer",
      columns: ["id"],
      children: [
        {
          table: "tag",
          label: "tags",
          columns: ["name"],
          relationship: { type: "one_to_many", variant: "scalar", through_tables: ["customer_tag"] },
          transform: { replace: { name: { "-": "_" } } },
        },
        {
          table: "profile",
          columns: ["bio"],
          relationship: { type: "one_to_one", variant: "scalar" },
          transform: { replace: { bio: { "-": "+" } } },
        },
      ],
    });
    expect(t({ id: 1, tags: ["a-b", null, "c"], profile: "x-y" })).toEqual({
      id: 1,
      tags: ["a_b", null, "c"],
      profile: "x+y",
    });
    expect(t({ id: 2, tags: null, profile: null })).toEqual({ id: 2, tags: null, profile: null });
  });

  it("concatenates like PGSync: literals for unknown names, falsy values skipped, Python str()", () => {
    const t = transformer({
      table: "customer",
      columns: ["id", "name", "vip", "email", "doc"],
      transform: {
        concat: [
          { columns: ["id", "name", "vip", "http://", "email", "doc"], destination: "all", delimiter: "|" },
          { columns: ["name", "vip"], destination: "short" },
        ],
      },
    });
    expect(t({ id: 7, name: "Ann", vip: true, email: "", doc: { a: [1, "x"], b: null } })).toMatchObject({
      all: "7|Ann|True|http://|{'a': [1, 'x'], 'b': None}",
      short: "AnnTrue",
    });
    expect(t({ id: 0, name: null, vip: false, email: "e", doc: {} })).toMatchObject({
      all: "http://|e",
      short: "",
    });
  });

  it("applies concat to each object of a one_to_many child, after the rename", () => {
    const t = transformer({
      table: "customer",
      columns: ["id"],
      children: [
        orders({
          transform: {
            rename: { id: "order_id" },
            concat: { columns: ["order_id", "status"], destination: "code", delimiter: "-" },
          },
        }),
      ],
    });
    expect(
      t({
        id: 1,
        orders: [
          { order_id: 5, status: "paid" },
          { order_id: 6, status: "new" },
        ],
      }),
    ).toEqual({
      id: 1,
      orders: [
        { order_id: 5, status: "paid", code: "5-paid" },
        { order_id: 6, status: "new", code: "6-new" },
      ],
    });
  });

  it("moves a field inside its object", () => {
    const t = transformer({
      table: "customer",
      columns: ["id", "email"],
      transform: { move: { column: "email", destination: "contact.email" } },
    });
    expect(t({ id: 1, email: "a@b" })).toEqual({ id: 1, contact: { email: "a@b" } });
  });

  it("moves a field to the root, as one value or as an array when the node repeats", () => {
    const t = transformer({
      table: "customer",
      columns: ["id"],
      children: [
        {
          table: "profile",
          columns: ["id", "bio"],
          relationship: { type: "one_to_one", variant: "object" },
          transform: { move: { column: "bio", destination: "$root.about.bio" } },
        },
        orders({ transform: { move: { column: "status", destination: "$root.statuses" } } }),
      ],
    });
    expect(
      t({
        id: 1,
        profile: { id: 3, bio: "hi" },
        orders: [
          { id: 1, status: "a", total: 1 },
          { id: 2, status: "b", total: 2 },
        ],
      }),
    ).toEqual({
      id: 1,
      profile: { id: 3 },
      orders: [
        { id: 1, total: 1 },
        { id: 2, total: 2 },
      ],
      about: { bio: "hi" },
      statuses: ["a", "b"],
    });
    expect(t({ id: 2, profile: null, orders: null })).toEqual({ id: 2, profile: null, orders: null });
  });

  it("refuses to move through a field that is not an object", () => {
    const t = transformer({
      table: "customer",
      columns: ["id", "name", "email"],
      transform: { move: { column: "email", destination: "name.email" } },
    });
    expect(() => t({ id: 1, name: "Ann", email: "x" } as JsonObject)).toThrow(DocumentError);
    expect(() => t({ id: 1, name: "Ann", email: "x" } as JsonObject)).toThrow(
      'move to "name.email" passes through "name"',
    );
  });
});

describe("Python formatting for concat", () => {
  it("follows Python truthiness", () => {
    expect([null, false, 0, 0n, "", [], {}].map((v) => pythonTruthy(v))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([true, 1, "0", [0], { a: 1 }].map((v) => pythonTruthy(v))).toEqual([true, true, true, true, true]);
  });

  it("follows Python str()", () => {
    expect(pythonStr(true)).toBe("True");
    expect(pythonStr(null)).toBe("None");
    expect(pythonStr(12345678901234567890n)).toBe("12345678901234567890");
    expect(pythonStr(2.5)).toBe("2.5");
    expect(pythonStr(0.00001)).toBe("1e-05");
    expect(pythonStr(["it's", 'say "hi"', "a\\b"])).toBe(`["it's", 'say "hi"', 'a\\\\b']`);
  });
});
