import { describe, expect, it } from "vitest";
import {
  type Catalog,
  parseSchema,
  resolveWithCatalog,
  type SchemaCheck,
  selfJoinNotes,
} from "../../../lib/schema";
import { catalog, table } from "./catalog-fixture";

const BOOKS = catalog(
  table("publisher", ["id", "name:text"]),
  table("book", ["id", "isbn:text", "title:text", "publisher_id", "doc:jsonb"], {
    unique: [["isbn"]],
    fks: [[["publisher_id"], "publisher", ["id"]]],
  }),
  table("review", ["id", "book_id", "stars"], { fks: [[["book_id"], "book", ["id"]]] }),
  table("author", ["id", "name:text"]),
  table("book_author", ["id", "book_isbn:text", "author_id"], {
    fks: [
      [["book_isbn"], "book", ["isbn"]],
      [["author_id"], "author", ["id"]],
    ],
  }),
  table("book_tag", ["book_id", "tag_id"], {
    pk: ["book_id", "tag_id"],
    fks: [
      [["book_id"], "book", ["id"]],
      [["tag_id"], "tag", ["id"]],
    ],
  }),
  table("tag", ["id", "name:text"]),
  table("book_view", ["id", "title:text", "publisher_id"], { kind: "view" }),
);

function check(nodes: unknown, cat: Catalog = BOOKS): SchemaCheck {
  return resolveWithCatalog(parseSchema([{ database: "shop", index: "books", nodes }]), cat);
}
const problems = (nodes: unknown, cat?: Catalog) =>
  check(nodes, cat).problems.map((p) => `${p.path}: ${p.message}`);
const resolved = (nodes: unknown, cat?: Catalog) => {
  const result = check(nodes, cat);
  if (!result.resolved) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return result.resolved;
};

describe("resolving tables, columns and keys", () => {
  it("expands every column and takes the primary key from the table", () => {
    const index = resolved({ table: "book", transform: { rename: { id: "book_id" } } }).indices[0];
    expect(index?.root.columns.map((c) => [c.field, c.column])).toEqual([
      ["book_id", "id"],
      ["isbn", "isbn"],
      ["title", "title"],
      ["publisher_id", "publisher_id"],
      ["doc", "doc"],
    ]);
    expect(index?.root.table.primaryKey).toEqual(["id"]);
    expect(index?.root.table.primaryKeyTypes).toEqual(["integer"]);
  });

  it("reports missing tables, schemas and columns with suggestions", () => {
    expect(problems({ table: "bok" })).toEqual([
      '[0].nodes.table: table or view public.bok does not exist; did you mean "book"?',
    ]);
    expect(problems({ table: "book", schema: "pubic" })).toEqual([
      '[0].nodes.schema: schema "pubic" does not exist in database "shop"; did you mean "public"?',
    ]);
    expect(problems({ table: "book", columns: ["id", "titel", "isbn->a"] })).toEqual([
      '[0].nodes.columns[1]: column "titel" does not exist in public.book; did you mean "title"?',
      '[0].nodes.columns[2]: "isbn->a" applies JSON operators to isbn, which is text, not json or jsonb',
    ]);
  });

  it("requires primary_key on a view and checks its columns", () => {
    expect(problems({ table: "book_view" })).toEqual([
      '[0].nodes: view public.book_view has no primary key; add "primary_key": [<columns that identify a row>]',
    ]);
    expect(problems({ table: "book_view", primary_key: ["idd"] })).toEqual([
      '[0].nodes.primary_key[0]: column "idd" does not exist in public.book_view; did you mean "id"?',
    ]);
    expect(resolved({ table: "book_view", primary_key: ["id"] }).indices[0]?.root.table.primaryKey).toEqual([
      "id",
    ]);
  });

  it("reports a missing SELECT privilege with the GRANT to run", () => {
    const cat = catalog(table("secret", ["id"], { canSelect: false }));
    expect(problems({ table: "secret" }, cat)).toEqual([
      '[0].nodes.table: role "app" may not read public.secret; run GRANT SELECT ON "public"."secret" TO "app"',
    ]);
  });

  it("reports a definition whose database is not the connected one", () => {
    const result = resolveWithCatalog(
      parseSchema([{ database: "other", index: "x", nodes: { table: "book" } }]),
      BOOKS,
    );
    expect(result.problems).toEqual([
      {
        path: "[0].database",
        message:
          'the schema reads database "other" but the connection is to "shop"; connect to "other" (PG_URL) or correct "database"',
      },
    ]);
    expect(
      resolveWithCatalog(parseSchema([{ database: "other", index: "x", nodes: { table: "book" } }]), BOOKS, {
        checkDatabaseName: false,
      }).problems,
    ).toEqual([]);
  });

  it("checks that transforms name real fields", () => {
    expect(
      problems({
        table: "book",
        columns: ["id", "title"],
        transform: {
          rename: { titel: "t" },
          replace: { isbn: { a: "b" } },
          move: { column: "nope", destination: "x" },
        },
      }),
    ).toEqual([
      '[0].nodes.transform.rename.titel: rename names "titel", which is not a column or child of this node; did you mean "title"?',
      '[0].nodes.transform.replace.isbn: replace names "isbn", which is not a field of this node',
      '[0].nodes.transform.move.column: move names "nope", which is not a field of this node',
    ]);
  });

  it("reports a child label that collides with a column when every column is read", () => {
    expect(
      problems({
        table: "book",
        children: [
          { table: "publisher", label: "title", relationship: { type: "one_to_one", variant: "object" } },
        ],
      }),
    ).toEqual([
      '[0].nodes.children[0].label: child "title" gives the field "title", which is also a column of public.book; give the child another "label"',
    ]);
  });
});

describe("resolving joins", () => {
  const one = (t: string, extra: Record<string, unknown> = {}) => ({
    table: t,
    relationship: { type: "one_to_one", variant: "object", ...extra },
  });
  const many = (t: string, extra: Record<string, unknown> = {}) => ({
    table: t,
    relationship: { type: "one_to_many", variant: "object", ...extra },
  });

  it("infers a child-holds-key join from the child's foreign key", () => {
    const index = resolved({ table: "book", children: [many("review")] }).indices[0];
    expect(index?.nodes[1]?.join).toEqual({
      kind: "direct",
      childColumns: ["book_id"],
      parentColumns: ["id"],
      direction: "child_holds_key",
      constraint: "review_book_id_fkey",
    });
    expect(index?.nodes[1]?.uniqueJoin).toBe(false);
  });

  it("infers a parent-holds-key join from the parent's foreign key", () => {
    const index = resolved({ table: "book", children: [one("publisher")] }).indices[0];
    expect(index?.nodes[1]?.join).toEqual({
      kind: "direct",
      childColumns: ["id"],
      parentColumns: ["publisher_id"],
      direction: "parent_holds_key",
      constraint: "book_publisher_id_fkey",
    });
    expect(index?.nodes[1]?.uniqueJoin).toBe(true);
  });

  it("resolves through tables, including a foreign key to a unique non-key column", () => {
    const index = resolved({ table: "book", children: [many("author", { through_tables: ["book_author"] })] })
      .indices[0];
    const join = index?.nodes[1]?.join;
    expect(join?.kind).toBe("through");
    expect(join).toMatchObject({
      throughParentColumns: ["book_isbn"],
      parentColumns: ["isbn"],
      throughChildColumns: ["author_id"],
      childColumns: ["id"],
      parentConstraint: "book_author_book_isbn_fkey",
      childConstraint: "book_author_author_id_fkey",
    });
    expect(index?.tableUses).toEqual([
      { table: expect.objectContaining({ name: "book" }), role: "node", nodeId: 0 },
      { table: expect.objectContaining({ name: "author" }), role: "node", nodeId: 1 },
      { table: expect.objectContaining({ name: "book_author" }), role: "through", nodeId: 1 },
    ]);
  });

  it("uses a declared foreign_key and works out its direction", () => {
    const index = resolved({
      table: "book_view",
      primary_key: ["id"],
      children: [one("publisher", { foreign_key: { child: ["id"], parent: ["publisher_id"] } })],
    }).indices[0];
    expect(index?.nodes[1]?.join).toEqual({
      kind: "direct",
      childColumns: ["id"],
      parentColumns: ["publisher_id"],
      direction: "parent_holds_key",
      constraint: undefined,
    });
  });

  it("reports declared foreign_key columns that do not exist or cannot be compared", () => {
    expect(
      problems({
        table: "book",
        children: [one("publisher", { foreign_key: { child: ["idd"], parent: ["title"] } })],
      }),
    ).toEqual([
      '[0].nodes.children[0].relationship.foreign_key.child[0]: column "idd" does not exist in public.publisher; did you mean "id"?',
    ]);
    expect(
      problems({
        table: "book",
        children: [one("publisher", { foreign_key: { child: ["id"], parent: ["title"] } })],
      }),
    ).toEqual([
      "[0].nodes.children[0].relationship.foreign_key.child[0]: public.publisher.id is integer but public.book.title is text; joined columns must have comparable types",
    ]);
  });

  it("reports when no foreign key joins the tables", () => {
    expect(problems({ table: "book", children: [many("tag")] })).toEqual([
      '[0].nodes.children[0].relationship: no foreign key joins public.tag and public.book; declare the join as "foreign_key": {"child": [...], "parent": [...]}',
    ]);
  });

  it("lists the candidates when several foreign keys could join the tables", () => {
    const cat = catalog(
      table("team", ["id", "name:text"]),
      table("match", ["id", "home_id", "away_id"], {
        fks: [
          [["home_id"], "team", ["id"], "match_home_fkey"],
          [["away_id"], "team", ["id"], "match_away_fkey"],
        ],
      }),
    );
    expect(problems({ table: "match", children: [one("team")] }, cat)).toEqual([
      '[0].nodes.children[0].relationship: 2 foreign keys could join public.team and public.match: match_home_fkey [public.match(home_id) -> public.team(id)] as "foreign_key": {"child":["id"],"parent":["home_id"]}; match_away_fkey [public.match(away_id) -> public.team(id)] as "foreign_key": {"child":["id"],"parent":["away_id"]}; add the one you mean to the relationship',
    ]);
  });

  it("reads a self-referencing foreign key one way: a child is the row that points at its parent", () => {
    const cat = catalog(
      table("node", ["id", "parent_id"], { fks: [[["parent_id"], "node", ["id"], "node_parent_fkey"]] }),
    );
    const index = resolved({ table: "node", children: [many("node")] }, cat).indices[0];
    expect(index?.nodes[1]?.join).toEqual({
      kind: "direct",
      childColumns: ["parent_id"],
      parentColumns: ["id"],
      direction: "child_holds_key",
      constraint: "node_parent_fkey",
    });
  });

  it("lets an explicit foreign_key on a self-referencing table choose the other way (the parent row)", () => {
    const cat = catalog(
      table("node", ["id", "parent_id"], { fks: [[["parent_id"], "node", ["id"], "node_parent_fkey"]] }),
    );
    const schema = resolved(
      { table: "node", children: [one("node", { foreign_key: { child: ["id"], parent: ["parent_id"] } })] },
      cat,
    );
    expect(selfJoinNotes(schema)).toEqual([
      '[0].nodes.children[0]: public.node joins itself (node_parent_fkey); "node" is the row its parent points at, id = the parent\'s parent_id (set "foreign_key" in the relationship to read it the other way)',
    ]);
    const index = schema.indices[0];
    expect(index?.nodes[1]?.join).toMatchObject({
      childColumns: ["id"],
      parentColumns: ["parent_id"],
      direction: "parent_holds_key",
      constraint: "node_parent_fkey",
    });
  });

  it("reports a through table without a foreign key to one side", () => {
    expect(problems({ table: "book", children: [many("tag", { through_tables: ["book_author"] })] })).toEqual(
      [
        "[0].nodes.children[0].relationship.through_tables[0]: no foreign key joins public.book_author and public.tag; the through table needs a foreign key to each side",
      ],
    );
    expect(problems({ table: "book", children: [many("tag", { through_tables: ["book_tg"] })] })).toEqual([
      '[0].nodes.children[0].relationship.through_tables: table or view public.book_tg does not exist; did you mean "book_tag"?',
    ]);
  });
});

describe("replica identity", () => {
  it("lists tables whose join columns toward the parent are not in their replica identity", () => {
    const schema = resolved({
      table: "book",
      children: [
        { table: "review", relationship: { type: "one_to_many", variant: "object" } },
        { table: "publisher", relationship: { type: "one_to_one", variant: "object" } },
        {
          table: "author",
          relationship: { type: "one_to_many", variant: "object", through_tables: ["book_author"] },
        },
        {
          table: "tag",
          relationship: { type: "one_to_many", variant: "object", through_tables: ["book_tag"] },
        },
      ],
    });
    expect(schema.replicaIdentityNeeds.map((n) => [n.table.name, n.current, n.columns, n.sql])).toEqual([
      ["review", "default", ["book_id"], 'ALTER TABLE "public"."review" REPLICA IDENTITY FULL;'],
      ["book_author", "default", ["book_isbn"], 'ALTER TABLE "public"."book_author" REPLICA IDENTITY FULL;'],
    ]);
    expect(schema.replicaIdentityNeeds[0]?.reasons).toEqual([
      "[0].nodes.children[0]: review.book_id joins public.review to public.book; with the current replica identity a DELETE, or an UPDATE that changes it, does not say which row it belonged to",
    ]);
    expect(schema.tables.map((t) => `${t.name}:${t.replicaIdentity}`)).toEqual([
      "book:default",
      "review:default",
      "publisher:default",
      "author:default",
      "book_author:default",
      "tag:default",
      "book_tag:default",
    ]);
  });

  it("is satisfied by REPLICA IDENTITY FULL and reports a root with REPLICA IDENTITY NOTHING", () => {
    const cat = catalog(
      table("book", ["id"], { identity: "nothing" }),
      table("review", ["id", "book_id"], { identity: "full", fks: [[["book_id"], "book", ["id"]]] }),
    );
    const schema = resolved(
      {
        table: "book",
        children: [{ table: "review", relationship: { type: "one_to_many", variant: "object" } }],
      },
      cat,
    );
    expect(schema.replicaIdentityNeeds.map((n) => [n.table.name, n.current, n.columns])).toEqual([
      ["book", "nothing", ["id"]],
    ]);
  });
});

describe("field names with every column", () => {
  it("reports a rename onto another column's name", () => {
    expect(problems({ table: "book", transform: { rename: { title: "isbn" } } })).toEqual([
      '[0].nodes.transform.rename: two columns of public.book would both be called "isbn"; rename one of them differently',
    ]);
  });
});
