import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocumentBuilder, parseJson, sourceText } from "../../lib/document";
import { documentOperation } from "../../lib/reconcile";
import { parseSchema, type ResolvedIndex, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink, SourceText, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { ENGINES } from "../support/engines";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";

// Documents go to the engines as PostgreSQL's text when nothing changes them, parsed and written
// again otherwise; both must store the same values, exact integers and awkward text included.

const SUFFIX = randomBytes(4).toString("hex");
let db: TestDatabase;
/** Every column but `js` (json): sent as text. */
let asText: ResolvedIndex;
/** Every column, `js` (json) included: parsed, since json keeps duplicate keys. */
let parsed: ResolvedIndex;

beforeAll(async () => {
  db = await createFixtureDatabase("types");
  await db.client.query(`UPDATE sample SET js = '{"b": 1, "b": 2}' WHERE id = 1`);
  const [samples] = (await readSchemaFixture("types")) as Record<string, unknown>[];
  const { rows } = await db.client.query<{ name: string }>(
    "SELECT attname AS name FROM pg_attribute WHERE attrelid = 'sample'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
  );
  const resolve = async (columns: string[], index: string) => {
    const spec = parseSchema([{ ...samples, index, nodes: { table: "sample", columns } }], {
      env: { DATABASE: db.name },
    });
    const [resolved] = (await resolveSchema(spec, db.client)).indices;
    if (!resolved) throw new Error("no index");
    return resolved;
  };
  const names = rows.map((r) => r.name);
  asText = await resolve(
    names.filter((n) => n !== "js"),
    `slotsync-text-${SUFFIX}`,
  );
  parsed = await resolve(names, `slotsync-parsed-${SUFFIX}`);
});
afterAll(async () => {
  await db?.drop();
});

describe.each(ENGINES)("$name stores documents sent as text and parsed alike", ({ config }) => {
  let sink: SearchSink;
  beforeAll(async () => {
    sink = createSink(config());
    for (const index of [asText, parsed]) {
      // numeric(30,0) holds integers no long can: dynamically mapped, the engine refuses them.
      await sink.createIndex(index.spec.index, {
        mappings: { properties: { num: { type: "double" } } },
        settings: { ...TOMBSTONE_INDEX_SETTINGS, number_of_replicas: 0 },
      });
    }
  });
  afterAll(async () => {
    if (!sink) return;
    for (const index of [asText, parsed]) await sink.deleteIndex(index.spec.index).catch(() => undefined);
    await sink.close();
  });

  const write = async (index: ResolvedIndex) => {
    const built = await new DocumentBuilder(index).build(db.client, ["9007199254740993", "1"]);
    const ops = built.map((doc) => documentOperation(doc, 5n, index.spec.index, []));
    const result = await sink.write(ops);
    expect(result.outcomes.map((o) => [o.status, (o as { reason?: string }).reason])).toEqual([
      ["ok", undefined],
      ["ok", undefined],
    ]);
    return ops;
  };

  it("sends PostgreSQL's text without a json column, and the parsed object with one", async () => {
    const textOps = await write(asText);
    expect(textOps.every((op) => op.kind === "index" && op.source instanceof SourceText)).toBe(true);
    const parsedOps = await write(parsed);
    expect(parsedOps.some((op) => op.kind === "index" && op.source instanceof SourceText)).toBe(false);

    const stored = async (index: ResolvedIndex, id: string) =>
      (await sink.getDocuments(index.spec.index, [id]))[0]?.source;
    // The engine keeps the source it was sent; read as JSON, both carry the same values.
    const fromText = await stored(asText, "9007199254740993");
    const fromParsed = await stored(parsed, "9007199254740993");
    expect(fromText).toMatchObject({
      txt: 'line1\nline2 "quoted" \\ tab\t',
      dec: 1.5,
      nan_v: "NaN",
      m: "happy",
    });
    const { js: _js, ...parsedWithoutJs } = fromParsed ?? {};
    expect(fromText).toEqual(parsedWithoutJs);
    // A json value with a repeated key reaches the engine once, the last value winning.
    expect((await stored(parsed, "1"))?.js).toEqual({ b: 2 });
  });

  it("keeps integers beyond 2^53 exact in the text it sends", async () => {
    const [doc] = await new DocumentBuilder(asText).build(db.client, ["9007199254740993"]);
    const text = doc?.action === "index" ? sourceText(doc) : undefined;
    expect(text).toContain('"id" : 9007199254740993');
    expect(parseJson(text ?? "{}")).toMatchObject({
      id: 9007199254740993n,
      num: 123456789012345678901234567890n,
    });
  });
});
