import { describe, expect, it } from "vitest";
import { type NodeSpec, parseSchema, validateSchema } from "../../../lib/schema";

const schemaOf = (nodes: unknown) => [{ database: "book", index: "book", nodes }];
const root = (nodes: unknown): NodeSpec => {
  const [spec] = parseSchema(schemaOf(nodes));
  if (!spec) throw new Error("no index");
  return spec.nodes;
};
const problems = (nodes: unknown) =>
  validateSchema(schemaOf(nodes)).problems.map((p) => `${p.path}: ${p.message}`);

const child = (extra: Record<string, unknown>) => ({
  table: "author",
  relationship: { type: "one_to_many", variant: "object" },
  ...extra,
});

describe("node keys", () => {
  it("reads table, schema, label, columns, primary_key and base_tables", () => {
    const node = root({
      table: "book_view",
      schema: "library",
      label: "books",
      columns: ["id", "title"],
      primary_key: ["id"],
      base_tables: ["book", "archive.book"],
    });
    expect(node.table).toBe("book_view");
    expect(node.schema).toBe("library");
    expect(node.label).toBe("books");
    expect(node.columns?.map((c) => c.name)).toEqual(["id", "title"]);
    expect(node.primaryKey).toEqual(["id"]);
    expect(node.baseTables).toEqual([
      { schema: "library", name: "book" },
      { schema: "archive", name: "book" },
    ]);
  });

  it("treats a missing or empty column list as every column (PGSync)", () => {
    expect(root({ table: "book" }).columns).toBeUndefined();
    expect(root({ table: "book", columns: [] }).columns).toBeUndefined();
  });

  it("names JSON path columns as PGSync does", () => {
    const node = root({
      table: "book",
      columns: ["doc->a->0->b", "doc#>{a,b}", "doc#>{a,b,c}->4", "doc->>name"],
    });
    expect(node.columns?.map((c) => c.name)).toEqual(["doc_a_0_b", "doc_a,b", "doc_a,b,c_4", "doc_name"]);
    expect(node.columns?.[0]?.path).toEqual([
      { op: "->", key: "a" },
      { op: "->", index: 0 },
      { op: "->", key: "b" },
    ]);
    expect(node.columns?.[1]?.path).toEqual([{ op: "#>", path: ["a", "b"], literal: "{a,b}" }]);
  });

  it("reads children with relationship type, variant, through_tables and foreign_key", () => {
    const node = root({
      table: "book",
      children: [
        child({
          label: "authors",
          relationship: { type: "one_to_many", variant: "object", through_tables: ["book_author"] },
        }),
        child({
          table: "publisher",
          relationship: {
            type: "one_to_one",
            variant: "object",
            foreign_key: { child: ["id"], parent: ["publisher_id"] },
          },
        }),
        child({
          table: "tag",
          columns: ["name"],
          relationship: { type: "one_to_many", variant: "scalar", through_tables: ["x.book_tag"] },
        }),
      ],
    });
    expect(node.children.map((c) => [c.label, c.relationship])).toEqual([
      [
        "authors",
        {
          type: "one_to_many",
          variant: "object",
          through: { schema: "public", name: "book_author" },
          foreignKey: undefined,
        },
      ],
      [
        "publisher",
        {
          type: "one_to_one",
          variant: "object",
          through: undefined,
          foreignKey: { child: ["id"], parent: ["publisher_id"] },
        },
      ],
      [
        "tag",
        {
          type: "one_to_many",
          variant: "scalar",
          through: { schema: "x", name: "book_tag" },
          foreignKey: undefined,
        },
      ],
    ]);
    expect(node.children[0]?.path).toBe("[0].nodes.children[0]");
  });

  it("ignores a relationship on the root, as PGSync does", () => {
    expect(
      root({ table: "book", relationship: { type: "one_to_one", variant: "object" } }).relationship,
    ).toBeUndefined();
  });
});

describe("node problems", () => {
  it("reports an unknown node key with a suggestion", () => {
    expect(problems({ table: "book", colums: ["id"] })).toEqual([
      '[0].nodes.colums: unknown node key "colums"; did you mean "columns"? (allowed: table, schema, columns, label, primary_key, base_tables, children, relationship, transform)',
    ]);
  });

  it("reports a missing table and wrong types", () => {
    expect(problems({ label: 3, columns: "id", primary_key: [] })).toEqual([
      '[0].nodes: every node needs "table" (the table or view to read)',
      "[0].nodes.label: expected label (a string), got the number 3",
      '[0].nodes.columns: expected columns (an array of strings), got the string "id" (write ["id"])',
      "[0].nodes.primary_key: list at least one column, or remove primary_key",
    ]);
  });

  it("reports a bad column element at its own path", () => {
    expect(problems({ table: "book", columns: ["id", 7, ""] })).toEqual([
      "[0].nodes.columns[1]: expected each of columns (a string), got the number 7",
      "[0].nodes.columns[2]: each of columns must not be empty",
    ]);
  });

  it("reports malformed JSON paths", () => {
    expect(problems({ table: "book", columns: ["->a", "doc->", "doc->>a->b", "doc#>a"] })).toEqual([
      '[0].nodes.columns[0]: "->a" must start with a column name before the JSON operator',
      '[0].nodes.columns[1]: "doc->" has an operator "->" with nothing after it',
      '[0].nodes.columns[2]: "doc->>a->b": "->>" returns text, so it must be the last operator',
      '[0].nodes.columns[3]: "doc#>a": the operand of "#>" must be a path in braces, e.g. #>{a,b}',
    ]);
  });

  it("requires a relationship with type and variant on children", () => {
    expect(
      problems({ table: "book", children: [{ table: "author" }, { table: "city", relationship: {} }] }),
    ).toEqual([
      '[0].nodes.children[0]: a child node needs "relationship": {"type": "one_to_one" | "one_to_many", "variant": "object" | "scalar"}',
      '[0].nodes.children[1].relationship: relationship needs "type": "one_to_one" or "one_to_many"',
      '[0].nodes.children[1].relationship: relationship needs "variant": "object" or "scalar"',
    ]);
  });

  it("reports a misspelt relationship type or variant with a suggestion", () => {
    expect(
      problems({
        table: "book",
        children: [child({ relationship: { type: "one_to_mny", variant: "objects" } })],
      }),
    ).toEqual([
      '[0].nodes.children[0].relationship.type: expected "one_to_one" or "one_to_many", got "one_to_mny"; did you mean "one_to_many"?',
      '[0].nodes.children[0].relationship.variant: expected "object" or "scalar", got "objects"; did you mean "object"?',
    ]);
  });

  it("reports unknown relationship and foreign_key keys", () => {
    expect(
      problems({
        table: "book",
        children: [
          child({
            relationship: {
              type: "one_to_one",
              variant: "object",
              through_table: ["x"],
              foreign_key: { child: ["a"], parent: ["b"], parnet: [] },
            },
          }),
        ],
      }),
    ).toEqual([
      '[0].nodes.children[0].relationship.through_table: unknown relationship key "through_table"; did you mean "through_tables"? (allowed: type, variant, through_tables, foreign_key)',
      '[0].nodes.children[0].relationship.foreign_key.parnet: unknown foreign_key key "parnet"; did you mean "parent"? (allowed: child, parent)',
    ]);
  });

  it("rejects more than one through table and foreign_key together with through_tables", () => {
    expect(
      problems({
        table: "book",
        children: [
          child({ relationship: { type: "one_to_many", variant: "object", through_tables: ["a", "b"] } }),
          child({
            label: "writers",
            relationship: {
              type: "one_to_many",
              variant: "object",
              through_tables: ["a"],
              foreign_key: { child: ["id"], parent: ["id"] },
            },
          }),
        ],
      }),
    ).toEqual([
      "[0].nodes.children[0].relationship.through_tables: list one through table, got 2 (PGSync joins through one table)",
      "[0].nodes.children[1].relationship.foreign_key: foreign_key cannot be combined with through_tables: both joins are taken from the through table's foreign keys; remove foreign_key",
    ]);
  });

  it("checks foreign_key shapes", () => {
    expect(
      problems({
        table: "book",
        children: [
          child({
            relationship: {
              type: "one_to_one",
              variant: "object",
              foreign_key: { child: ["a", "b"], parent: ["c"] },
            },
          }),
          child({
            label: "x",
            relationship: { type: "one_to_one", variant: "object", foreign_key: { child: "id" } },
          }),
        ],
      }),
    ).toEqual([
      '[0].nodes.children[0].relationship.foreign_key: "child" and "parent" must list the same number of columns (at least one), got 2 and 1',
      '[0].nodes.children[1].relationship.foreign_key.child: expected the child table\'s join columns (an array of strings), got the string "id" (write ["id"])',
      '[0].nodes.children[1].relationship.foreign_key: foreign_key needs "parent": the join columns of the parent',
    ]);
  });

  it("requires exactly one column for a scalar node, no children and no object transforms", () => {
    expect(
      problems({
        table: "book",
        children: [
          child({
            label: "a",
            columns: ["name", "id"],
            relationship: { type: "one_to_many", variant: "scalar" },
          }),
          child({ label: "b", relationship: { type: "one_to_many", variant: "scalar" } }),
          child({
            label: "c",
            columns: ["name"],
            relationship: { type: "one_to_one", variant: "scalar" },
            children: [child({ table: "city" })],
            transform: { concat: { columns: ["name"], destination: "x" } },
          }),
        ],
      }),
    ).toEqual([
      '[0].nodes.children[0].columns: a scalar node renders one value, so "columns" must list exactly one column, got 2',
      '[0].nodes.children[1].columns: a scalar node renders one value, so "columns" must list exactly one column',
      "[0].nodes.children[2].children: a scalar node renders a bare value, so it cannot have children",
      "[0].nodes.children[2].transform.concat: concat needs an object node, not a scalar",
    ]);
  });

  it("rejects duplicate labels among siblings and labels that collide with columns", () => {
    expect(
      problems({
        table: "book",
        columns: ["id", "author"],
        children: [child({}), child({ table: "writer", label: "author" })],
      }),
    ).toEqual([
      '[0].nodes.children[0].table: child "author" gives the field "author", which column "author" already gives; rename one of them',
      '[0].nodes.children[1].label: child "author" gives the field "author", which column "author" already gives; rename one of them',
    ]);
    expect(
      problems({
        table: "book",
        children: [child({ label: "people" }), child({ table: "editor", label: "people" })],
      }),
    ).toEqual([
      '[0].nodes.children[1].label: child "people" gives the field "people", which child "people" already gives; rename one of them',
    ]);
  });

  it("rejects renames that make two fields share a name", () => {
    expect(
      problems({ table: "book", columns: ["id", "isbn"], transform: { rename: { id: "isbn" } } }),
    ).toEqual([
      '[0].nodes.columns[1]: column "isbn" gives the field "isbn", which column "id" already gives; rename one of them',
    ]);
  });

  it("allows the same table twice under different labels", () => {
    const node = root({
      table: "match",
      children: [
        child({
          table: "team",
          label: "home",
          relationship: {
            type: "one_to_one",
            variant: "object",
            foreign_key: { child: ["id"], parent: ["home_id"] },
          },
        }),
        child({
          table: "team",
          label: "away",
          relationship: {
            type: "one_to_one",
            variant: "object",
            foreign_key: { child: ["id"], parent: ["away_id"] },
          },
        }),
      ],
    });
    expect(node.children.map((c) => c.label)).toEqual(["home", "away"]);
  });

  it("reports problems in deep children at their full path", () => {
    expect(
      problems({
        table: "a",
        children: [
          child({
            table: "b",
            children: [
              child({
                table: "c",
                children: [child({ table: "d", relationship: { type: "one_to_ne", variant: "object" } })],
              }),
            ],
          }),
        ],
      }),
    ).toEqual([
      '[0].nodes.children[0].children[0].children[0].relationship.type: expected "one_to_one" or "one_to_many", got "one_to_ne"; did you mean "one_to_one"?',
    ]);
  });
});
