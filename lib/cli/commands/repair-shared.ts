import type pg from "pg";
import { connectDatabase } from "../../database";
import type { DocumentBuilder } from "../../document";
import { closest } from "../../errors";
import { createBuilders, openSchema } from "../../runtime";
import type { ResolvedSchema } from "../../schema";
import { createDocumentSink, requireIndexAdmin, type SearchSink } from "../../sink";
import type { CommandContext } from "../command";
import { UsageError } from "../flags";

/** `--schema` and `--index` as `render`, `reconcile` and `verify` take them. */
export const SCHEMA_INDEX_FLAGS = {
  schema: {
    type: "string",
    value: "<file|url>",
    description: "schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
  },
  index: {
    type: "string",
    value: "<name>",
    description: "only this index of the schema (default: every index)",
  },
} as const;

/** What `reconcile` and `verify` work with: the schema, its builders, the sink and a connection. */
export interface RepairSession {
  client: pg.Client;
  schema: ResolvedSchema;
  builders: DocumentBuilder[];
  sink: SearchSink;
  pgUrl: string;
  close(): Promise<void>;
}

/**
 * Opens the database, the schema (only `--index` when given) and the sink.
 * @throws SinkError naming the fix when the sink is a stream: both commands read the index.
 */
export async function openRepairSession(
  ctx: CommandContext,
  index: string | undefined,
): Promise<RepairSession> {
  const config = ctx.config({ pg: true, schema: true, sink: true });
  // Contacts nothing yet: a stream sink is refused before the database is opened.
  const sink = requireIndexAdmin(createDocumentSink(config.sink), `slotsync ${ctx.command.name}`);
  const client = await connectDatabase(config.pgUrl, `slotsync-${ctx.command.name}`);
  try {
    const schema = await openSchema(config, ctx.env, client);
    const names = schema.indices.map((i) => i.spec.index);
    if (index !== undefined && !names.includes(index)) {
      const guess = closest(index, names, { uniquePrefix: true });
      throw new UsageError(`the schema has no index "${index}"`, {
        fix: guess ? `did you mean --index ${guess}?` : `its indices are ${names.join(", ")}`,
      });
    }
    const builders = [...(await createBuilders(schema, config.pluginsDir)).values()].filter(
      (b) => index === undefined || b.index.spec.index === index,
    );
    return {
      client,
      schema,
      builders,
      sink,
      pgUrl: config.pgUrl,
      async close() {
        await sink.close().catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await sink.close().catch(() => undefined);
    await client.end().catch(() => undefined);
    throw error;
  }
}
