/**
 * What PGSync 7.x leaves in a database and a cluster, found from its own naming rules:
 * - a logical replication slot (plugin `test_decoding`) named `<database lower-cased>_<index>`
 *   with every character outside `[0-9a-zA-Z_]` removed;
 * - row and truncate triggers `<schema>_<table>_notify` / `<schema>_<table>_truncate` on every
 *   table of the tree, calling the function `<schema>.table_notify()`;
 * - the materialized view `<schema>._view` it keeps primary and foreign keys in;
 * - an index named after the schema's index (a concrete index, not an alias) whose documents carry
 *   `_meta` (the keys of every nested row);
 * - outside the database: its checkpoint file `.<slot>` in CHECKPOINT_PATH and the Redis keys
 *   `queue:<slot>` and `queue:<slot>:meta`.
 * The triggers, the function and the view are shared by every PGSync index of the database.
 */
import type pg from "pg";
import type { ResolvedSchema } from "../schema";
import type { SearchSink } from "../sink";

/** PGSync's trigger function name (`pgsync.constants.TRIGGER_FUNC`). */
export const PGSYNC_FUNCTION = "table_notify";
/** PGSync's materialized view name (`pgsync.constants.MATERIALIZED_VIEW`). */
export const PGSYNC_VIEW = "_view";
/** `_meta`: where PGSync keeps nested rows' keys in each document. */
export const PGSYNC_META_FIELD = "_meta";

/** PGSync's replication slot name for a database and an index. */
export function pgsyncSlotName(database: string, index: string): string {
  return `${database.toLowerCase()}_${index}`.replace(/[^0-9a-zA-Z_]+/g, "");
}

export interface PgsyncTrigger {
  schema: string;
  table: string;
  name: string;
}

/** The search-side state of one schema index. */
export interface PgsyncIndex {
  /** The schema's index name: what the application queries. */
  name: string;
  /** `concrete`: an index of that name (PGSync's); `alias`: already an alias; `missing`. */
  kind: "concrete" | "alias" | "missing";
  /** Concrete indices behind the alias (`alias` only). */
  targets: string[];
  /** The mappings hold PGSync's `_meta`. */
  hasMeta: boolean;
}

export interface PgsyncArtefacts {
  database: string;
  /** PGSync's slots of this schema's indices that exist (name, plugin). */
  slots: { name: string; plugin: string; index: string }[];
  /** Other PGSync-looking slots of this database: other PGSync indices still using the triggers. */
  otherSlots: string[];
  triggers: PgsyncTrigger[];
  /** Schemas holding `table_notify()`. */
  functions: string[];
  /** Schemas holding the `_view` materialized view. */
  views: string[];
  indices: PgsyncIndex[];
}

/** Looks for PGSync's artefacts of `schema` in the database `db` and on the search engine. */
export async function findPgsyncArtefacts(
  db: pg.ClientBase,
  schema: ResolvedSchema,
  sink: SearchSink,
  slotsyncSlot: string,
): Promise<PgsyncArtefacts> {
  const database = schema.database;
  const wanted = new Map(schema.indices.map((i) => [pgsyncSlotName(database, i.spec.index), i.spec.index]));
  const { rows: slotRows } = await db.query<{ name: string; plugin: string }>(
    `SELECT slot_name AS name, coalesce(plugin, '') AS plugin FROM pg_replication_slots
      WHERE database = current_database() AND slot_type = 'logical' ORDER BY slot_name`,
  );
  const slots = slotRows
    .filter((s) => wanted.has(s.name))
    .map((s) => ({ ...s, index: wanted.get(s.name) ?? "" }));
  const prefix = pgsyncSlotName(database, "");
  const otherSlots = slotRows
    .filter((s) => !wanted.has(s.name) && s.name !== slotsyncSlot)
    .filter((s) => s.plugin === "test_decoding" && s.name.startsWith(prefix))
    .map((s) => s.name);
  const { rows: triggers } = await db.query<PgsyncTrigger>(
    `SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE NOT t.tgisinternal AND p.proname = $1
        AND t.tgname IN (n.nspname || '_' || c.relname || '_notify', n.nspname || '_' || c.relname || '_truncate')
      ORDER BY 1, 2, 3`,
    [PGSYNC_FUNCTION],
  );
  const { rows: functions } = await db.query<{ schema: string }>(
    `SELECT DISTINCT n.nspname AS schema FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE p.proname = $1 AND p.pronargs = 0 ORDER BY 1`,
    [PGSYNC_FUNCTION],
  );
  const { rows: views } = await db.query<{ schema: string }>(
    "SELECT schemaname AS schema FROM pg_matviews WHERE matviewname = $1 ORDER BY 1",
    [PGSYNC_VIEW],
  );
  const indices: PgsyncIndex[] = [];
  for (const spec of schema.indices.map((i) => i.spec)) {
    const targets = await sink.getAliasTargets(spec.index);
    const exists = targets.length > 0 || (await sink.indexExists(spec.index));
    const kind = targets.length > 0 ? "alias" : exists ? "concrete" : "missing";
    const fields = kind === "missing" ? [] : await sink.mappedFields(spec.index);
    indices.push({ name: spec.index, kind, targets, hasMeta: fields.includes(PGSYNC_META_FIELD) });
  }
  return {
    database,
    slots,
    otherSlots,
    triggers,
    functions: functions.map((f) => f.schema),
    views: views.map((v) => v.schema),
    indices,
  };
}
