import type { LeasedClient } from "../consumer";
import type { DocumentBuilder } from "../document";
import {
  allColumnsUses,
  type ResolvedSchema,
  type ResolveOptions,
  readColumnSignatures,
  resolvedColumnSignatures,
  resolveSchema,
  type SchemaSpec,
} from "../schema";
import { createBuilders } from "./factory";

export interface BuilderRefreshOptions {
  /** The parsed schema file, resolved again when columns change. */
  spec: SchemaSpec;
  /** The schema as the builders were made from it. */
  schema: ResolvedSchema;
  /** The builders in use, replaced in place (so every holder of the map sees the new ones). */
  builders: Map<string, DocumentBuilder>;
  pluginsDir?: string | undefined;
  resolve?: ResolveOptions;
  connect(): Promise<LeasedClient>;
}

/**
 * Keeps a consumer's builders in step with tables whose nodes take every column: before a batch,
 * one catalog query compares their columns with those the builders were made with; when a column
 * was added or dropped, the schema is resolved again and the builders made again. The poller hands
 * on a key (or a rebuild) only after the change that needs it committed, and the ALTER TABLE
 * committed before that, so the batch that carries it sees the new columns. Undefined when no node
 * takes every column (nothing to watch).
 */
export function builderRefresher(options: BuilderRefreshOptions): (() => Promise<void>) | undefined {
  let schema = options.schema;
  let uses = allColumnsUses(schema);
  if (uses.length === 0) return undefined;
  let known = resolvedColumnSignatures(uses).join("\n");
  return async () => {
    const lease = await options.connect();
    let failure: Error | undefined;
    try {
      const now = (await readColumnSignatures(lease.client, [...new Set(uses.map((u) => u.table))])).join(
        "\n",
      );
      if (now === known) return;
      schema = await resolveSchema(options.spec, lease.client, options.resolve);
      const fresh = await createBuilders(schema, options.pluginsDir);
      for (const [index, builder] of fresh) options.builders.set(index, builder);
      uses = allColumnsUses(schema);
      known = resolvedColumnSignatures(uses).join("\n");
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      lease.release(failure);
    }
  };
}
