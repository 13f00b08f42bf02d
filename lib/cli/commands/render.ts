import type pg from "pg";
import { connectDatabase } from "../../database";
import { type DocumentBuilder, type DocumentResult, stringifyJson } from "../../document";
import { closest } from "../../errors";
import { createBuilders, openSchema } from "../../runtime";
import { defineCommand, EXIT, type TextOutput } from "../command";
import { UsageError } from "../flags";
import { writeAwait } from "../output";
import { SCHEMA_INDEX_FLAGS } from "./repair-shared";

/** Root rows per query when rendering every document: bounds memory whatever the table size. */
const PAGE_SIZE = 500;

export const render = defineCommand({
  name: "render",
  summary: "print the documents built from the database as NDJSON (the ground truth)",
  usage: ["render --schema <file|url> [--index <name>] [--ids <id,id,...>]"],
  description: `Prints one line per document, {"_index","_id","_source"}, built from the database exactly
as the consumers build them: every root row in primary key order, or only --ids. This is what the
index must equal once the queue is drained. All documents are read in one REPEATABLE READ
snapshot, so the output is consistent even while the database changes.

--ids takes document _ids: the primary key values joined with "|" for composite keys ("7|en").
An id without a root row is skipped with a note on stderr.

Exit codes: 0 ok; 1 database failure; 2 bad usage, configuration or schema.

Environment: PG_URL, SCHEMA or SCHEMA_URL (unless --schema), PLUGINS_DIR.`,
  flags: {
    ...SCHEMA_INDEX_FLAGS,
    ids: {
      type: "list",
      value: "<id,id,...>",
      description: "only these document _ids, comma-separated; composite keys as a|b",
    },
  },
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    const config = ctx.config({ pg: true, schema: true });
    const client = await connectDatabase(config.pgUrl, "slotsync-render");
    try {
      const schema = await openSchema(config, ctx.env, client);
      const names = schema.indices.map((i) => i.spec.index);
      const wanted = ctx.flags.index;
      if (wanted !== undefined && !names.includes(wanted)) {
        const guess = closest(wanted, names, { uniquePrefix: true });
        throw new UsageError(`the schema has no index "${wanted}"`, {
          fix: guess ? `did you mean --index ${guess}?` : `its indices are ${names.join(", ")}`,
        });
      }
      const ids = ctx.flags.ids;
      if (ids && wanted === undefined && names.length > 1) {
        throw new UsageError("--ids needs --index when the schema has several indices", {
          fix: `add --index with one of ${names.join(", ")}`,
        });
      }
      const builders = await createBuilders(schema, config.pluginsDir);
      const selected = [...builders.values()].filter(
        (b) => wanted === undefined || b.index.spec.index === wanted,
      );
      // One snapshot for the whole output: documents of different pages agree with each other.
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      for (const builder of selected) {
        if (ids) await renderIds(client, builder, ids, ctx.stdout, ctx.stderr);
        else await renderAll(client, builder, ctx.stdout, ctx.signal);
      }
      await client.query("COMMIT");
      return EXIT.ok;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});

async function renderAll(
  client: pg.Client,
  builder: DocumentBuilder,
  out: TextOutput,
  signal: AbortSignal,
): Promise<void> {
  let after: string[] | undefined;
  for (;;) {
    signal.throwIfAborted();
    const page = await builder.buildRange(client, { ...(after ? { after } : {}), limit: PAGE_SIZE });
    for (const doc of page.documents) await writeDocument(out, doc);
    if (!page.more || page.lastKey === undefined) return;
    after = page.lastKey;
  }
}

async function renderIds(
  client: pg.Client,
  builder: DocumentBuilder,
  ids: readonly string[],
  out: TextOutput,
  err: TextOutput,
): Promise<void> {
  const index = builder.index.spec.index;
  const width = builder.index.root.table.primaryKey.length;
  const keys = ids.map((id) => {
    // A single-column key may itself contain "|": split only composite keys.
    const parts = width === 1 ? [id] : id.split("|");
    if (parts.length !== width) {
      throw new UsageError(`id "${id}" has ${parts.length} value(s) but ${index}'s key has ${width}`, {
        fix: `write composite ids as ${builder.index.root.table.primaryKey.join("|")}`,
      });
    }
    return parts;
  });
  for (let i = 0; i < keys.length; i += PAGE_SIZE) {
    for (const doc of await builder.build(client, keys.slice(i, i + PAGE_SIZE))) {
      if (doc.action === "index") await writeDocument(out, doc);
      else {
        const why = doc.reason === "missing" ? "no root row with this key" : "dropped by a plugin";
        err.write(`slotsync: ${index}/${doc._id}: ${why}; skipped\n`);
      }
    }
  }
}

async function writeDocument(out: TextOutput, doc: DocumentResult): Promise<void> {
  if (doc.action !== "index") return;
  await writeAwait(out, `${stringifyJson({ _index: doc._index, _id: doc._id, _source: doc._source })}\n`);
}
