/**
 * Documents built by PGSync 7.3.0 (run here, from PyPI) and by slotsync on the same schema
 * fixture and data, for the tests that compare them document by document.
 */
import { randomBytes } from "node:crypto";
import { DocumentBuilder } from "../../lib/document";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink } from "../../lib/sink";
import { createFixtureDatabase, readSchemaFixture } from "./pg";
import { pgsyncHarness } from "./pgsync";
import { getServices } from "./services";

/** The `_source` of every document, by `_id`, as each side built it. */
export interface Compared {
  pgsync: Map<string, Record<string, unknown>>;
  slotsync: Map<string, Record<string, unknown>>;
  /** The raw `_source` text PGSync wrote, by `_id` (number formatting survives here). */
  pgsyncText: Map<string, string>;
}

/** A comparison session: runs fixtures, then `close()` drops every database, slot and index. */
export interface Comparer {
  /**
   * Runs PGSync's bootstrap and one full sync of a schema fixture, and slotsync's document builder
   * on the same database. `redisDb` keeps concurrent suites' PGSync queues apart; `adjust` edits
   * the schema (both sides get the edited one).
   */
  compare(
    fixture: string,
    redisDb: number,
    adjust?: (schema: Record<string, unknown>[]) => void,
  ): Promise<Compared>;
  close(): Promise<void>;
}

/** PGSync's document without `_meta` (the keys it keeps for itself; slotsync never writes it). */
export function withoutMeta(source: Record<string, unknown> | undefined): Record<string, unknown> {
  const { _meta, ...rest } = source ?? {};
  return rest;
}

/** Starts a comparison session (see `Comparer`). */
export function pgsyncComparer(): Comparer {
  const cleanups: (() => Promise<unknown>)[] = [];
  let sink: SearchSink | undefined;
  const elastic = (): SearchSink => {
    if (!sink) {
      const { url, username, password } = getServices().elasticsearch;
      sink = createSink({ engine: "elasticsearch", node: url, auth: { type: "basic", username, password } });
    }
    return sink;
  };
  return {
    async compare(fixture, redisDb, adjust = () => undefined) {
      const db = await createFixtureDatabase(fixture);
      cleanups.push(() => db.drop());
      const index = `compat_${fixture.replace(/[^a-z0-9_]/g, "_")}_${randomBytes(3).toString("hex")}`;
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
            .query(
              "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1",
              [db.name],
            )
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
      const pgsyncText = await rawSources(index);

      const resolved = await resolveSchema(parseSchema(schema as never), db.client);
      const [resolvedIndex] = resolved.indices;
      if (!resolvedIndex) throw new Error("no index");
      const built = await new DocumentBuilder(resolvedIndex).buildRange(db.client, { limit: 10_000 });
      const slotsync = new Map<string, Record<string, unknown>>();
      for (const r of built.documents) if (r.action === "index") slotsync.set(r._id, r._source);
      return { pgsync, slotsync, pgsyncText };
    },
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await sink?.close();
    },
  };
}

/**
 * Each document's `_source` exactly as stored, by `_id`: the search API's JSON response holds the
 * text the writer sent, so `899.0` and `899` can be told apart (a JSON parser cannot).
 */
async function rawSources(index: string): Promise<Map<string, string>> {
  const { url, username, password } = getServices().elasticsearch;
  const response = await fetch(`${url}/${index}/_search?size=10000`, {
    headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` },
  });
  if (!response.ok) throw new Error(`${index}/_search: HTTP ${response.status}`);
  const text = await response.text();
  const out = new Map<string, string>();
  // Each hit: "_id":"<id>", …, "_source":{…}. Slice every _source object by brace depth.
  const hit = /"_id":"((?:[^"\\]|\\.)*)"[^{]*?"_source":/g;
  for (let m = hit.exec(text); m; m = hit.exec(text)) {
    const start = hit.lastIndex;
    let depth = 0;
    let i = start;
    let inString = false;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === "\\") i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === "{") depth++;
      else if (ch === "}" && --depth === 0) break;
    }
    out.set(JSON.parse(`"${m[1]}"`) as string, text.slice(start, i + 1));
  }
  return out;
}
