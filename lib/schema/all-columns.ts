import type { ResolvedSchema } from "./model";
import type { Queryable } from "./sql";
import type { TableName } from "./types";

/** One node that takes every column of its table (no `columns` in the schema). */
export interface AllColumnsUse {
  /** Position of the index in the schema. */
  index: number;
  table: TableName;
  /** The columns the node was resolved with. */
  columns: string[];
}

/** The nodes of the schema that take every column of their table. */
export function allColumnsUses(schema: ResolvedSchema): AllColumnsUse[] {
  return schema.indices.flatMap((index, i) =>
    index.nodes
      .filter((node) => node.allColumns)
      .map((node) => ({
        index: i,
        table: { schema: node.table.schema, name: node.table.name },
        columns: node.columns.map((c) => c.column),
      })),
  );
}

/** A stable text of a table and its column names (in any order), for comparing column sets. */
export function columnSignature(table: TableName, columns: readonly string[]): string {
  return JSON.stringify([table.schema, table.name, ...[...columns].sort()]);
}

/**
 * The column names of `tables` now (not dropped, in one catalog query), as column signatures,
 * sorted. A table that does not exist is left out: that is schema drift, reported elsewhere.
 */
export async function readColumnSignatures(db: Queryable, tables: readonly TableName[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const { rows } = await db.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name,
            array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      GROUP BY n.nspname, c.relname`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return rows.map((r) => columnSignature(r, r.columns)).sort();
}

/** The column signatures the schema was resolved with, for the tables of its all-columns nodes. */
export function resolvedColumnSignatures(uses: readonly AllColumnsUse[]): string[] {
  return [...new Set(uses.map((u) => columnSignature(u.table, u.columns)))].sort();
}
