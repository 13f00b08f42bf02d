import { describe, expect, it } from "vitest";
import { buildKeysQuery, buildRangeQuery, DocumentError, nodeObjectSql } from "../../../lib/document";
import { columnSql, jsonObject } from "../../../lib/document/sql-expr";
import { childValueSql } from "../../../lib/document/sql-node";
import { catalog, table } from "../schema/catalog-fixture";
import { resolveIndex } from "./resolved";

describe("JSON object SQL", () => {
  it("builds one json_build_object up to 50 pairs", () => {
    expect(
      jsonObject([
        ["a", "x.a"],
        ["b's", "x.b"],
      ]),
    ).toBe("json_build_object('a', x.a, 'b''s', x.b)");
  });

  it("merges chunks of 50 pairs with jsonb || beyond PostgreSQL's 100-argument limit", () => {
    const pairs = Array.from({ length: 101 }, (_, i) => [`c${i}`, `t.c${i}`] as const);
    const sql = jsonObject(pairs);
    expect(sql.startsWith("(json_build_object('c0', t.c0,")).toBe(true);
    expect(sql.match(/json_build_object\(/g)).toHaveLength(3);
    expect(sql.match(/::jsonb/g)).toHaveLength(3);
    expect(sql).toContain(")::jsonb || json_build_object('c50', t.c50,");
    expect(sql.endsWith("json_build_object('c100', t.c100)::jsonb)")).toBe(true);
  });

  it("applies JSON operators with quoted operands", () => {
    const column = (path: unknown[]) =>
      columnSql("n0", { field: "f", name: "f", column: 'do"c', path: path as never, type: "jsonb" });
    expect(
      column([
        { op: "->", key: "a'b" },
        { op: "->", index: 0 },
      ]),
    ).toBe(`((n0."do""c" -> 'a''b') -> 0)`);
    expect(
      column([
        { op: "#>", path: ["a", "b"], literal: "{a,b}" },
        { op: "->>", key: "c" },
      ]),
    ).toBe(`((n0."do""c" #> '{a,b}'::text[]) ->> 'c')`);
  });
});

describe("node SQL", () => {
  it("nests children as correlated subqueries in PGSync's shapes", () => {
    const index = resolveIndex({
      nodes: {
        table: "customer",
        columns: ["id", "name"],
        children: [
          { table: "profile", columns: ["bio"], relationship: { type: "one_to_one", variant: "object" } },
          { table: "note", columns: ["body"], relationship: { type: "one_to_one", variant: "scalar" } },
          {
            table: "orders",
            columns: ["id", "status"],
            relationship: { type: "one_to_many", variant: "object" },
            children: [
              {
                table: "order_line",
                label: "skus",
                columns: ["sku"],
                relationship: { type: "one_to_many", variant: "scalar" },
              },
            ],
          },
          {
            table: "tag",
            label: "tags",
            columns: ["name"],
            relationship: { type: "one_to_many", variant: "scalar", through_tables: ["customer_tag"] },
          },
        ],
      },
    });
    const [profile, note, orders, tags] = index.root.children;
    if (!profile || !note || !orders || !tags) throw new Error("missing children");
    // profile.customer_id is unique: at most one row, no LIMIT needed.
    expect(childValueSql(profile, "n0")).toBe(
      `(SELECT json_build_object('bio', n1."bio") FROM "public"."profile" AS n1 WHERE n1."customer_id" = n0."id")`,
    );
    // note.customer_id is not unique: the first note by primary key.
    expect(childValueSql(note, "n0")).toBe(
      `(SELECT n2."body" FROM "public"."note" AS n2 WHERE n2."customer_id" = n0."id" ORDER BY n2."id" LIMIT 1)`,
    );
    expect(childValueSql(orders, "n0")).toBe(
      `(SELECT json_agg(json_build_object('id', n3."id", 'status', n3."status", 'skus', ` +
        `(SELECT json_agg(n4."sku" ORDER BY n4."order_id", n4."line_no") FROM "public"."order_line" AS n4 WHERE n4."order_id" = n3."id")) ` +
        `ORDER BY n3."id") FROM "public"."orders" AS n3 WHERE n3."customer_id" = n0."id")`,
    );
    expect(childValueSql(tags, "n0")).toBe(
      `(SELECT json_agg(n5."name" ORDER BY n5."id", x5."customer_id", x5."tag_id") FROM "public"."customer_tag" AS x5 ` +
        `JOIN "public"."tag" AS n5 ON n5."id" = x5."tag_id" WHERE x5."customer_id" = n0."id")`,
    );
    expect(
      nodeObjectSql(index.root).startsWith(
        `json_build_object('id', n0."id", 'name', n0."name", 'profile', (SELECT`,
      ),
    ).toBe(true);
  });

  it("quotes hostile identifiers everywhere", () => {
    const evil = 'x"; DROP TABLE victim; --';
    const cat = catalog(
      table(evil, ["id", `${evil}col:text`, "parent id"], {
        schema: "my schema",
        fks: [[["parent id"], "p'arent", ["id"]]],
      }),
      table("p'arent", ["id"], { schema: "my schema" }),
    );
    const index = resolveIndex(
      {
        nodes: {
          table: "p'arent",
          schema: "my schema",
          children: [
            {
              table: evil,
              schema: "my schema",
              label: "kids",
              relationship: { type: "one_to_many", variant: "object" },
            },
          ],
        },
      },
      cat,
    );
    const sql = buildKeysQuery(index, [["1"]]).text;
    expect(sql).toContain(
      `FROM "my schema"."x""; DROP TABLE victim; --" AS n1 WHERE n1."parent id" = n0."id"`,
    );
    expect(sql).toContain(`'x"; DROP TABLE victim; --col', n1."x""; DROP TABLE victim; --col"`);
    expect(sql).toContain(`FROM "my schema"."p'arent" AS n0`);
  });
});

describe("key and range queries", () => {
  const composite = resolveIndex({ nodes: { table: "order_line", columns: ["sku"] } });

  it("sends one text array per key column and returns a row per requested key", () => {
    const query = buildKeysQuery(composite, [
      ["1", "2"],
      ["1", "3"],
    ]);
    expect(query.values).toEqual([
      ["1", "1"],
      ["2", "3"],
    ]);
    expect(query.text).toBe(
      [
        "SELECT COALESCE(d.key, ARRAY[k.k0::integer::text, k.k1::integer::text]) AS key, d.doc AS doc",
        "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(k0, k1, ord)",
        "LEFT JOIN LATERAL (",
        `  SELECT ARRAY[n0."order_id"::text, n0."line_no"::text] AS key, json_build_object('sku', n0."sku")::text AS doc`,
        `  FROM "public"."order_line" AS n0`,
        `  WHERE n0."order_id" = k.k0::integer AND n0."line_no" = k.k1::integer`,
        "  LIMIT 1",
        ") AS d ON true",
        "ORDER BY k.ord",
      ].join("\n"),
    );
  });

  it("pages a composite key range with row comparisons", () => {
    expect(buildRangeQuery(composite, { after: ["1", "2"], upTo: ["9", "9"], limit: 100 })).toEqual({
      text: [
        `SELECT ARRAY[n0."order_id"::text, n0."line_no"::text] AS key, json_build_object('sku', n0."sku")::text AS doc`,
        `FROM "public"."order_line" AS n0`,
        `WHERE (n0."order_id", n0."line_no") > ($1::integer, $2::integer) AND (n0."order_id", n0."line_no") <= ($3::integer, $4::integer)`,
        `ORDER BY n0."order_id", n0."line_no"`,
        "LIMIT $5",
      ].join("\n"),
      values: ["1", "2", "9", "9", 100],
    });
  });

  it("omits absent bounds and compares single keys directly", () => {
    const single = resolveIndex({ nodes: { table: "tag", columns: ["name"] } });
    expect(buildRangeQuery(single, { limit: 10 }).text).not.toContain("WHERE");
    expect(buildRangeQuery(single, { upTo: ["5"], limit: 10 })).toMatchObject({
      text: expect.stringContaining(`WHERE n0."id" <= $1::integer`),
      values: ["5", 10],
    });
  });

  it("rejects a bad page size or bound", () => {
    expect(() => buildRangeQuery(composite, { limit: 0 })).toThrow(DocumentError);
    expect(() => buildRangeQuery(composite, { after: ["1"], limit: 5 })).toThrow(/needs 2 value/);
  });
});
