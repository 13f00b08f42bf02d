/**
 * What the schema-drift check compares and reports. A fingerprint is what a schema uses of the
 * database (tables, the columns it reads, their types), taken when the schema first resolved; a
 * finding is one difference between that and the catalog now.
 */

/** How the database no longer matches what the schema uses. */
export type DriftKind = "table-missing" | "column-missing" | "type-changed";

export const DRIFT_KINDS: readonly DriftKind[] = ["table-missing", "column-missing", "type-changed"];

/** One difference between what an index's schema uses and the database now. */
export interface DriftFinding {
  /** The schema index (document index name) that uses the table. */
  index: string;
  /** The table, schema-qualified as PostgreSQL displays it, e.g. `public.book`. */
  table: string;
  /** The column, for `column-missing` and `type-changed`. */
  column?: string;
  kind: DriftKind;
  /** The type the schema was resolved with (`type-changed`). */
  was?: string;
  /** The type now (`type-changed`), or what became of a renamed table or column (`renamed to …`). */
  now?: string;
  /** What to do, in one sentence. */
  fix: string;
}

/** A column a schema reads, with the type it had when the fingerprint was taken. */
export interface FingerprintColumn {
  name: string;
  /** `format_type` without type modifier, e.g. `integer`, `character varying`, `public.mood`. */
  type: string;
  /** `pg_attribute.attnum`: stays the same when the column is renamed, so a rename can be named. */
  attnum?: number;
}

/** One table as one index uses it. */
export interface FingerprintTable {
  index: string;
  schema: string;
  name: string;
  /** `pg_class.oid`: stays the same when the table is renamed. */
  oid?: string;
  /** Columns read by the index: node columns, keys, join and through columns. */
  columns: FingerprintColumn[];
}

/** What a schema uses of the database, as it was when the schema resolved. */
export interface SchemaFingerprint {
  /** Identifies the schema file's content: a new schema gets a new fingerprint. */
  schemaHash: string;
  tables: FingerprintTable[];
}

/** Drift as it is recorded for the monitor and `slotsync status`. */
export interface DriftState {
  findings: DriftFinding[];
  /** When this drift was first seen (kept while it lasts). */
  detectedAt: string;
  /** When it was last confirmed. */
  checkedAt: string;
  /** Who saw it: `poller`, `consumer`, `run`. */
  source: string;
}

/** What is stored per deployed schema (one checkpoint-store drift record per schema hash). */
export interface SchemaDriftRecord {
  v: 1;
  schemaHash: string;
  /** When this schema first resolved: the fingerprint's time. */
  takenAt: string;
  /** When a process last started with this schema; the newest one is the deployed schema. */
  startedAt: string;
  fingerprint: SchemaFingerprint;
  /** Null while the database matches the fingerprint. */
  drift: DriftState | null;
}
