// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} references are what these tests are about
import { describe, expect, it } from "vitest";
import { parseSchema, SchemaError, validateSchema } from "../../../lib/schema";

/** Problems of a schema as `path: message` lines. */
function problems(json: unknown): string[] {
  return validateSchema(json).problems.map((p) => `${p.path}: ${p.message}`);
}

const book = (nodes: unknown, extra: Record<string, unknown> = {}) => [
  { database: "book", index: "book", nodes, ...extra },
];

describe("parseSchema: index definitions", () => {
  it("applies PGSync's defaults to a minimal definition", () => {
    const [spec] = parseSchema([{ database: "shop", nodes: { table: "product" } }]);
    expect(spec).toEqual({
      path: "[0]",
      database: "shop",
      index: "shop",
      nodes: {
        path: "[0].nodes",
        table: "product",
        schema: "public",
        label: "product",
        columns: undefined,
        primaryKey: undefined,
        baseTables: [],
        relationship: undefined,
        transform: { rename: {}, replace: {}, concat: [], mapping: {}, move: [] },
        children: [],
      },
      setting: undefined,
      mapping: undefined,
      mappings: undefined,
      routing: undefined,
      pipeline: undefined,
      plugins: [],
      slotsync: undefined,
      rules: [],
    });
  });

  it("defaults the database to the index name", () => {
    const [spec] = parseSchema([{ index: "shop", nodes: { table: "product" } }]);
    expect(spec?.database).toBe("shop");
  });

  it("reads setting, mapping, mappings, routing, pipeline, plugins and the reserved slotsync key", () => {
    const [spec] = parseSchema(
      book(
        { table: "book" },
        {
          setting: { number_of_shards: 1 },
          mapping: { title: { type: "text" } },
          mappings: { dynamic: "strict" },
          routing: "publisher_id",
          pipeline: "geoip",
          plugins: ["Hero", "Villain"],
          slotsync: { rules: [] },
        },
      ),
    );
    expect(spec?.setting).toEqual({ number_of_shards: 1 });
    expect(spec?.mapping).toEqual({ title: { type: "text" } });
    expect(spec?.mappings).toEqual({ dynamic: "strict" });
    expect(spec?.routing).toBe("publisher_id");
    expect(spec?.pipeline).toBe("geoip");
    expect(spec?.plugins).toEqual(["Hero", "Villain"]);
    expect(spec?.slotsync).toEqual({ rules: [] });
    expect(spec?.rules).toEqual([]);
  });

  it("accepts several index definitions", () => {
    const spec = parseSchema([
      { database: "db", index: "books", nodes: { table: "book" } },
      { database: "db", index: "authors", nodes: { table: "author" } },
    ]);
    expect(spec.map((s) => s.index)).toEqual(["books", "authors"]);
  });

  it("throws a SchemaError carrying every problem", () => {
    let error: unknown;
    try {
      parseSchema([{ database: "Book", nodes: { tabel: "book" } }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaError);
    const problems = (error as SchemaError).problems.map((p) => p.path);
    expect(problems).toEqual(["[0].database", "[0].nodes.tabel", "[0].nodes"]);
  });

  it("rejects a document that is not an array, with a hint for a single object", () => {
    expect(problems({ database: "x", nodes: { table: "t" } })).toEqual([
      ": expected an array of index definitions, got an object: wrap the index definition in [ ]",
    ]);
    expect(problems([])).toEqual([": the schema defines no index; add at least one index definition"]);
    expect(problems(["book"])).toEqual([
      '[0]: expected an index definition (a JSON object with "database" and "nodes"), got the string "book"',
    ]);
  });

  it("reports unknown keys with a suggestion", () => {
    expect(problems([{ database: "book", nodes: { table: "book" }, setings: {} }])).toEqual([
      '[0].setings: unknown index definition key "setings"; did you mean "setting"? (allowed: database, index, nodes, setting, mapping, mappings, routing, pipeline, plugins, slotsync)',
    ]);
  });

  it("reports missing database and nodes", () => {
    expect(problems([{ setting: {} }])).toEqual([
      '[0]: an index definition needs "database" (and usually "index")',
      '[0]: an index definition needs "nodes": the root node, e.g. {"table": "book"}',
    ]);
  });

  it("reports wrong types of index keys", () => {
    expect(
      problems(book({ table: "book" }, { setting: [], routing: 3, plugins: "Hero", pipeline: "" })),
    ).toEqual([
      "[0].setting: expected setting (index settings) (a JSON object), got an array",
      "[0].routing: expected routing (a field name) (a string), got the number 3",
      "[0].pipeline: pipeline (an ingest pipeline name) must not be empty",
      '[0].plugins: expected plugins (an array of strings), got the string "Hero" (write ["Hero"])',
    ]);
  });

  it("validates index names as Elasticsearch does", () => {
    expect(problems([{ database: "db", index: "Books", nodes: { table: "b" } }])).toEqual([
      '[0].index: index name "Books" must be lowercase (Elasticsearch rejects uppercase); use "books"',
    ]);
    expect(problems([{ database: "db", index: "_books", nodes: { table: "b" } }])).toEqual([
      '[0].index: index name "_books" must not start with "-", "_" or "+"',
    ]);
    expect(problems([{ database: "my db", nodes: { table: "b" } }])).toEqual([
      '[0].database: index name "my db" contains " ", which Elasticsearch does not allow in index names',
    ]);
  });

  it("rejects two definitions writing the same index", () => {
    expect(
      problems([
        { database: "db", index: "books", nodes: { table: "book" } },
        { database: "db", index: "books", nodes: { table: "novel" } },
      ]),
    ).toEqual(['[1].index: index "books" is also defined at [0]; give each definition its own index']);
  });

  it("rejects PGSync v1 node arrays with a hint", () => {
    expect(problems(book([{ table: "book" }]))).toEqual([
      '[0].nodes: expected a node (a JSON object with "table"), got an array (PGSync v1 listed nodes in an array; since v2 "nodes" is the root node object with "children")',
    ]);
  });
});

describe("parseSchema: environment substitution", () => {
  it("substitutes ${NAME} and ${NAME:-default} from the env map only", () => {
    const [spec] = parseSchema([{ database: "${DB}", index: "${INDEX:-books}", nodes: { table: "book" } }], {
      env: { DB: "production", SCHEMA_ENV_ALLOW: "DB,INDEX" },
    });
    expect(spec?.database).toBe("production");
    expect(spec?.index).toBe("books");
  });

  it("reports an unset variable at the path of the value", () => {
    expect(
      validateSchema([{ database: "${DB}", nodes: { table: "book" } }], { env: { SCHEMA_ENV_ALLOW: "DB" } })
        .problems,
    ).toContainEqual({
      path: "[0].database",
      message: "environment variable DB is not set; set it or write ${DB:-default}",
    });
  });

  it("never prints an interpolated value in a problem", () => {
    const { problems } = validateSchema([{ index: "${SLOTSYNC_SCHEMA_INDEX}", nodes: { table: "book" } }], {
      env: { SLOTSYNC_SCHEMA_INDEX: "Secretive Name" },
    });
    expect(problems).toEqual([
      {
        path: "[0].index",
        message:
          'index name "${SLOTSYNC_SCHEMA_INDEX}" must be lowercase (Elasticsearch rejects uppercase); use "${SLOTSYNC_SCHEMA_INDEX}"',
      },
    ]);
  });

  it("leaves references alone without an env map", () => {
    const [spec] = parseSchema([{ database: "db", index: "x", nodes: { table: "book", label: "${X}" } }]);
    expect(spec?.nodes.label).toBe("${X}");
  });
});
