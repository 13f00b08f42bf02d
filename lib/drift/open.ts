import {
  type Queryable,
  type ResolvedSchema,
  type ResolveOptions,
  resolveSchema,
  SchemaError,
  type SchemaSpec,
} from "../schema";
import type { SchemaDriftError } from "./errors";
import { schemaHash } from "./fingerprint";
import { DriftGuard, driftAtStart } from "./guard";
import type { DriftStore } from "./state";

export interface OpenWatchedOptions {
  db: Queryable;
  /** The parsed schema file. */
  spec: SchemaSpec;
  store: DriftStore;
  /** The slot of a database (`slotName(config)`): drift is kept per slot. */
  slotFor(database: string): string;
  /** Names the process in recorded drift: `poller`, `consumer`, `run`. */
  source: string;
  /** DRIFT_CHECK_MINUTES in ms. */
  intervalMs: number;
  resolve?: ResolveOptions;
  now?: () => number;
}

/** A schema that resolved, with its drift guard; or the drift that keeps it from resolving. */
export type WatchedSchema =
  | { schema: ResolvedSchema; guard: DriftGuard; slot: string }
  | { drift: SchemaDriftError; slot: string };

/**
 * Resolves the schema and opens its {@link DriftGuard}. When the schema does not resolve because a
 * table or column it resolved with before is gone, returns that drift (recorded for the monitor)
 * instead of the resolve error: the caller stops cleanly and says so. Any other problem throws as
 * `resolveSchema` does. The guard has not checked yet: its first `beforeCycle` does.
 */
export async function openWatchedSchema(options: OpenWatchedOptions): Promise<WatchedSchema> {
  const hash = schemaHash(options.spec);
  const database = options.spec[0]?.database ?? "";
  const common = {
    store: options.store,
    source: options.source,
    ...(options.now ? { now: options.now } : {}),
  };
  let schema: ResolvedSchema;
  try {
    schema = await resolveSchema(options.spec, options.db, options.resolve);
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    const slot = options.slotFor(database);
    const drift = await driftAtStart(options.db, hash, { ...common, slot }, error);
    if (drift) return { drift, slot };
    throw error;
  }
  const slot = options.slotFor(schema.database);
  const guard = await DriftGuard.open(options.db, schema, hash, {
    ...common,
    slot,
    intervalMs: options.intervalMs,
  });
  return { schema, guard, slot };
}
