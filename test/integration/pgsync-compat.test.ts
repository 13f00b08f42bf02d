/**
 * Documents built by PGSync 7.3.0 (run here, from PyPI) and by slotsync on the same schema and
 * data, compared document by document. Each difference asserted here is one row of
 * docs/guides/pgsync-compatibility.md.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { DocumentBuilder } from "../../lib/document";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type DocumentSink } from "../../lib/sink";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { pgsyncHarness } from "../support/pgsync";
import { getServices } from "../support/services";

interface Compared {
  pgsync: Map<string, Record<string, unknown>>;
  slotsync: Map<string, Record<string, unknown>>;
}

const cleanups: (() => Promise<unknown>)[] = [];
let sink: DocumentSink | undefined;

function elastic(): DocumentSink {
  if (!sink) {
    const { url, username, password } = getServices().elasticsearch;
    sink = createSink({ engine: "elasticsearch", node: url, auth: { type: "basic", username, password } });
  }
  return sink;
}

/** Runs PGSync's bootstrap and one sync of a fixture, and slotsync's builder on the same database. */
async function compare(
  fixture: string,
  redisDb: number,
  adjust: (schema: Record<string, unknown>[]) => void = () => undefined,
): Promise<Compared> {
  const db: TestDatabase = await createFixtureDatabase(fixture);
  cleanups.push(() => db.drop());
  const index = `compat_${fixture}_${randomBytes(3).toString("hex")}`;
  const schema = JSON.parse(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a schema's ${NAME} reference, not a template
    JSON.stringify(await readSchemaFixture(fixture)).replaceAll('"${DATABASE}"', JSON.stringify(db.name)),
  ) as Record<string, unknown>[];
  for (const s of schema) s.index = index;
  adjust(schema);
  const harness = await pgsyncHarness({ database: db.name, index, redisDb });
  cleanups.push(
    async () => {
      await db.client
        .query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [
          db.name,
        ])
        .catch(() => undefined);
    },
    () => harness.close(),
    () => elastic().deleteIndex(index),
  );
  harness.writeSchema(schema);
  await harness.bootstrapAndSync();
  await elastic().refresh(index);
  const pgsync = new Map<string, Record<string, unknown>>();
  for await (const doc of elastic().scan(index)) pgsync.set(doc.id, doc.source);

  const resolved = await resolveSchema(parseSchema(schema as never), db.client);
  const [resolvedIndex] = resolved.indices;
  if (!resolvedIndex) throw new Error("no index");
  const built = await new DocumentBuilder(resolvedIndex).buildRange(db.client, { limit: 10_000 });
  const slotsync = new Map<string, Record<string, unknown>>();
  for (const r of built.documents) if (r.action === "index") slotsync.set(r._id, r._source);
  return { pgsync, slotsync };
}

/** PGSync's document without `_meta` (the keys it keeps for itself; slotsync never writes it). */
function withoutMeta(source: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!source) return source;
  const { _meta, ...rest } = source;
  return rest;
}

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await sink?.close();
});

describe("PGSync 7.3.0 and slotsync on the same schema and data", () => {
  it("ancestry (four levels, the first through a table): the same documents; PGSync adds _meta", async () => {
    const { pgsync, slotsync } = await compare("ancestry", 14);
    expect([...pgsync.keys()].sort()).toEqual([...slotsync.keys()].sort());
    for (const [id, source] of pgsync) {
      expect(source).toHaveProperty("_meta");
      expect(withoutMeta(source)).toEqual(slotsync.get(id));
    }
  }, 300_000);

  it("node (a self-referencing table): PGSync nests each row in itself; slotsync nests the row that points at it", async () => {
    const { pgsync, slotsync } = await compare("node", 15);
    expect([...pgsync.keys()].sort()).toEqual([...slotsync.keys()].sort());
    // PGSync 7.3.0: node 4's "child" is node 4 again, and the roots (no node points at itself) get null.
    expect(withoutMeta(pgsync.get("4"))).toEqual({
      id: 4,
      name: "Node A_A",
      node_id: 1,
      child: { id: 4, name: "Node A_A", node_id: 1, grand_child: { id: 4, name: "Node A_A", node_id: 1 } },
    });
    expect(withoutMeta(pgsync.get("1"))).toMatchObject({ child: null });
    // slotsync: the child is the row whose node_id is this row's id.
    expect(slotsync.get("4")).toEqual({
      id: 4,
      name: "Node A_A",
      node_id: 1,
      child: { id: 7, name: "Node A_A_A", node_id: 4, grand_child: null },
    });
    expect(slotsync.get("1")).toMatchObject({ child: { id: 4, grand_child: { id: 7 } } });
    // The rows' own columns agree; only the nesting differs.
    for (const [id, source] of pgsync) {
      const { child: _a, ...own } = withoutMeta(source) ?? {};
      const { child: _b, ...mine } = slotsync.get(id) ?? {};
      expect(own).toEqual(mine);
    }
  }, 300_000);

  it("bookstore: replace on the root matches; a nested scalar list under replace is [] in PGSync; move is not applied there", async () => {
    const { pgsync, slotsync } = await compare("bookstore", 12, (schema) => {
      // The local engines lack analysis-common (the fixture's ngram analyzer): no settings, no
      // analyzer mappings; doc->coordinates holds [1.5, 2], which dynamic mapping would make long.
      for (const s of schema) {
        delete s.setting;
        s.mapping = { authors: { type: "nested" }, doc_coordinates: { type: "float" } };
        const strip = (node: { transform?: Record<string, unknown>; children?: unknown[] }) => {
          if (node.transform) delete node.transform.mapping;
          for (const child of node.children ?? []) strip(child as typeof node);
        };
        strip(s.nodes as never);
      }
    });
    const theirs = withoutMeta(pgsync.get("1")) ?? {};
    const mine = slotsync.get("1") ?? {};
    // replace on the root column: the same.
    expect(theirs.book_isbn).toBe("978-5811243570");
    expect(mine.book_isbn).toBe(theirs.book_isbn);
    // replace under a scalar list through a table: PGSync 7.3.0 empties the list.
    expect(theirs.languages).toEqual([]);
    expect(mine.languages).toEqual(expect.arrayContaining([expect.stringContaining("_")]));
    // move: PGSync 7.3.0 leaves the fields where they are.
    expect(theirs.ratings).toEqual({ value: 4.5 });
    expect(theirs).not.toHaveProperty("countries");
    expect(mine.ratings).toEqual({ score: { value: 4.5 } });
    expect(mine).toHaveProperty("countries");
  }, 300_000);
});
