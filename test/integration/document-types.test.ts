import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocumentBuilder, stringifyJson } from "../../lib/document";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";

let db: TestDatabase;
let resolved: ResolvedSchema;

beforeAll(async () => {
  db = await createFixtureDatabase("types");
  resolved = await resolveSchema(
    parseSchema(await readSchemaFixture("types"), { env: { DATABASE: db.name } }),
    db.client,
  );
});
afterAll(async () => {
  await db?.drop();
});

const builderFor = (name: string) => {
  const index = resolved.indices.find((i) => i.spec.index === name);
  if (!index) throw new Error(`no index ${name}`);
  return new DocumentBuilder(index);
};

describe("value rendering (PostgreSQL's JSON forms, as PGSync receives them)", () => {
  it("renders every type of the sample row", async () => {
    const [doc] = await builderFor("samples").build(db.client, ["9007199254740993"]);
    expect(doc).toEqual({
      action: "index",
      _index: "samples",
      _id: "9007199254740993",
      key: ["9007199254740993"],
      _source: {
        // Integers beyond 2^53 stay exact (psycopg2 gives PGSync Python ints).
        id: 9007199254740993n,
        big: 9223372036854775807n,
        small: -32768,
        pos: 5,
        num: 123456789012345678901234567890n,
        // numeric 1.500 is a double on both sides (Python float), so 1.5.
        dec: 1.5,
        real_v: 1.5,
        dbl: 0.1,
        nan_v: "NaN",
        flag: true,
        txt: 'line1\nline2 "quoted" \\ tab\t',
        vc: "varchar",
        ch: "ab ",
        day: "2024-02-29",
        ts: "2024-01-02T03:04:05.123456",
        // timestamptz follows the session time zone (UTC here).
        tstz: "2024-01-02T01:04:05.5+00:00",
        tm: "23:59:59",
        iv: "1 day 02:03:04",
        uid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        arr_int: [1, null, 3],
        arr_txt: ["a b", null, "c,d"],
        arr_2d: [
          [1, 2],
          [3, 4],
        ],
        js: { b: 1, a: [true, null] },
        jsb: { a: { c: 1.5 }, b: 1 },
        bin: "\\x0102ff",
        m: "happy",
        net: "192.168.0.1/24",
      },
    });
    // Serialised for Elasticsearch, the big integers are written digit for digit.
    const text = stringifyJson(doc?.action === "index" ? doc._source : {});
    expect(text).toContain('"id":9007199254740993,"big":9223372036854775807,');
    expect(text).toContain('"num":123456789012345678901234567890,');
  });

  it("renders NULL columns as null", async () => {
    const [doc] = await builderFor("samples").build(db.client, [1]);
    expect(doc?.action === "index" && Object.values(doc._source).filter((v) => v !== null)).toEqual([1]);
  });

  it("writes boolean key values in _id as Python does", async () => {
    expect(
      await builderFor("flags").build(db.client, [
        ["GB", true],
        ["GB", "false"],
      ]),
    ).toEqual([
      { action: "index", _index: "flags", _id: "GB|True", key: ["GB", "true"], _source: { label: "on" } },
      { action: "index", _index: "flags", _id: "GB|False", key: ["GB", "false"], _source: { label: "off" } },
    ]);
  });
});

describe("scale and width", () => {
  it("builds a table wider than json_build_object's 100-argument limit", async () => {
    const columns = Array.from({ length: 130 }, (_, i) => `c${i}`);
    await db.client.query(
      `CREATE TABLE wide (id integer PRIMARY KEY, ${columns.map((c) => `${c} text`).join(", ")});
       INSERT INTO wide VALUES (1, ${columns.map((c) => `'v_${c}'`).join(", ")});`,
    );
    const spec = parseSchema([{ database: db.name, index: "wide", nodes: { table: "wide" } }]);
    const [index] = (await resolveSchema(spec, db.client)).indices;
    if (!index) throw new Error("no index");
    const [doc] = await new DocumentBuilder(index).build(db.client, [1]);
    expect(doc).toEqual({
      action: "index",
      _index: "wide",
      _id: "1",
      key: ["1"],
      _source: Object.fromEntries([["id", 1], ...columns.map((c) => [c, `v_${c}`])]),
    });
  });

  it("builds a root with 10,000 children, in key order", async () => {
    await db.client.query(
      `CREATE TABLE parent (id integer PRIMARY KEY, name text);
       CREATE TABLE kid (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id), n integer);
       CREATE INDEX ON kid (parent_id);
       INSERT INTO parent VALUES (1, 'many'), (2, 'none');
       INSERT INTO kid SELECT g, 1, 10000 - g FROM generate_series(10000, 1, -1) g;`,
    );
    const spec = parseSchema([
      {
        database: db.name,
        index: "parents",
        nodes: {
          table: "parent",
          children: [
            {
              table: "kid",
              label: "kids",
              columns: ["id", "n"],
              relationship: { type: "one_to_many", variant: "object" },
            },
          ],
        },
      },
    ]);
    const [index] = (await resolveSchema(spec, db.client)).indices;
    if (!index) throw new Error("no index");
    const results = await new DocumentBuilder(index).build(db.client, [1, 2]);
    const kids = Array.from({ length: 10000 }, (_, i) => ({ id: i + 1, n: 10000 - (i + 1) }));
    expect(results).toEqual([
      { action: "index", _index: "parents", _id: "1", key: ["1"], _source: { id: 1, name: "many", kids } },
      {
        action: "index",
        _index: "parents",
        _id: "2",
        key: ["2"],
        _source: { id: 2, name: "none", kids: null },
      },
    ]);
  });
});
