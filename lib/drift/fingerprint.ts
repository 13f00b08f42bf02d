import { createHash } from "node:crypto";
import {
  displayName,
  type Queryable,
  type ResolvedSchema,
  type ResolvedTable,
  type TableName,
} from "../schema";
import type { FingerprintColumn, FingerprintTable, SchemaFingerprint } from "./types";

/**
 * Identifies a schema file's content (16 hex digits of SHA-256 over its parsed JSON): processes
 * running the same schema share a fingerprint, and a deployed change starts a new one.
 */
export function schemaHash(spec: unknown): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
}

/** What the catalog says about one table now. */
export interface CatalogTable extends TableName {
  oid: string;
  columns: { name: string; type: string; attnum: number }[];
}

/** The catalog now, by `schema.name` and by oid. */
export interface CatalogState {
  byName: Map<string, CatalogTable>;
  byOid: Map<string, CatalogTable>;
}

const key = (t: TableName) => JSON.stringify([t.schema, t.name]);

/**
 * Reads the tables (by name, and by oid to name renames) with their columns and types, in one
 * query. Types are `format_type` without type modifier: `varchar(20)` → `varchar(40)` is no drift,
 * `integer` → `bigint` or `text` is.
 */
export async function readCatalogState(
  db: Queryable,
  tables: readonly (TableName & { oid?: string })[],
): Promise<CatalogState> {
  const { rows } = await db.query<{
    schema: string;
    name: string;
    oid: string;
    columns: CatalogTable["columns"];
  }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, c.oid::text AS oid,
            COALESCE(json_agg(json_build_object('name', a.attname::text, 'type', format_type(a.atttypid, NULL),
                                                'attnum', a.attnum) ORDER BY a.attnum)
                     FILTER (WHERE a.attnum IS NOT NULL), '[]') AS columns
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND ((n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
             OR c.oid = ANY($3::text[]::oid[]))
      GROUP BY n.nspname, c.relname, c.oid`,
    [
      tables.map((t) => t.schema),
      tables.map((t) => t.name),
      tables.flatMap((t) => (t.oid === undefined ? [] : [t.oid])),
    ],
  );
  const state: CatalogState = { byName: new Map(), byOid: new Map() };
  for (const row of rows) {
    const table: CatalogTable = { schema: row.schema, name: row.name, oid: row.oid, columns: row.columns };
    state.byName.set(key(table), table);
    state.byOid.set(table.oid, table);
  }
  return state;
}

/** Every (index, table) the schema reads and the columns it reads of it: names only. */
export function schemaUses(schema: ResolvedSchema): { index: string; table: TableName; columns: string[] }[] {
  const uses = new Map<string, { index: string; table: TableName; columns: Set<string> }>();
  const use = (index: string, table: ResolvedTable | TableName, columns: readonly string[]) => {
    const k = JSON.stringify([index, table.schema, table.name]);
    let entry = uses.get(k);
    if (!entry) {
      entry = { index, table: { schema: table.schema, name: table.name }, columns: new Set() };
      uses.set(k, entry);
    }
    for (const c of columns) entry.columns.add(c);
  };
  for (const index of schema.indices) {
    const name = index.spec.index;
    for (const node of index.nodes) {
      // A node that takes every column follows columns added and dropped (lib/poller/columns.ts):
      // only its key is drift when it goes.
      use(name, node.table, [
        ...node.table.primaryKey,
        ...(node.allColumns ? [] : node.columns.map((c) => c.column)),
      ]);
      // Rule filters read columns the document may not contain.
      use(
        name,
        node.table,
        [...node.rules.filters, ...node.rules.changeFilters].map((f) => f.column),
      );
      const join = node.join;
      if (join?.kind === "direct") {
        use(name, node.table, join.childColumns);
        const parent = node.parentId === undefined ? undefined : index.nodes[node.parentId];
        if (parent) use(name, parent.table, join.parentColumns);
      } else if (join?.kind === "through") {
        use(name, join.through, [
          ...join.through.primaryKey,
          ...join.throughParentColumns,
          ...join.throughChildColumns,
        ]);
        use(name, node.table, join.childColumns);
        const parent = node.parentId === undefined ? undefined : index.nodes[node.parentId];
        if (parent) use(name, parent.table, join.parentColumns);
      }
      // A view's base tables: changes to them are read from the WAL, so they must exist.
      for (const base of node.baseTables) use(name, base, []);
    }
  }
  return [...uses.values()].map((u) => ({ index: u.index, table: u.table, columns: [...u.columns] }));
}

/**
 * The fingerprint of a resolved schema: every table and column it reads, with their types, oids
 * and column numbers as the catalog has them now (call it right after resolving).
 */
export async function takeFingerprint(
  db: Queryable,
  schema: ResolvedSchema,
  hash: string,
): Promise<SchemaFingerprint> {
  const uses = schemaUses(schema);
  const catalog = await readCatalogState(
    db,
    uses.map((u) => u.table),
  );
  const tables: FingerprintTable[] = uses.map((u) => {
    const found = catalog.byName.get(key(u.table));
    const columns: FingerprintColumn[] = u.columns.map((name) => {
      const column = found?.columns.find((c) => c.name === name);
      return column ? { name, type: column.type, attnum: column.attnum } : { name, type: "" };
    });
    return {
      index: u.index,
      schema: u.table.schema,
      name: u.table.name,
      ...(found ? { oid: found.oid } : {}),
      columns,
    };
  });
  return { schemaHash: hash, tables };
}

/** The fingerprint with each column's type (and oid, attnum) as the catalog has it now. */
export function refreshFingerprint(fingerprint: SchemaFingerprint, catalog: CatalogState): SchemaFingerprint {
  return {
    ...fingerprint,
    tables: fingerprint.tables.map((t) => {
      const found = catalog.byName.get(key(t));
      if (!found) return t;
      return {
        ...t,
        oid: found.oid,
        columns: t.columns.map((c) => {
          const now = found.columns.find((x) => x.name === c.name);
          return now ? { name: c.name, type: now.type, attnum: now.attnum } : c;
        }),
      };
    }),
  };
}

/** `schema.name` as PostgreSQL displays it. */
export function tableLabel(table: TableName): string {
  return displayName(table);
}
