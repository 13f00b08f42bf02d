import type { Queryable } from "./sql";
import type { TableName } from "./types";

export type RelationKind = "table" | "partitioned_table" | "view" | "materialized_view" | "foreign_table";
/** `pg_class.relreplident`: what UPDATE and DELETE records in the WAL carry of the old row. */
export type ReplicaIdentity = "default" | "nothing" | "full" | "index";

export interface CatalogColumn {
  name: string;
  /** `format_type(atttypid, atttypmod)`, usable in a cast, e.g. `integer`, `character varying(20)`, `public.mood`. */
  type: string;
  /** The type under any domain, e.g. `jsonb` for a domain over jsonb. */
  baseType: string;
  notNull: boolean;
}

export interface CatalogForeignKey {
  name: string;
  /** The referencing table and its columns. */
  table: TableName;
  columns: string[];
  /** The referenced table and columns, position by position. */
  refTable: TableName;
  refColumns: string[];
}

/** A leaf partition of a partitioned table: the table WAL rows are actually reported for. */
export interface CatalogPartition extends TableName {
  replicaIdentity: ReplicaIdentity;
  /** Columns of the partition's `REPLICA IDENTITY USING INDEX` index. */
  replicaIdentityIndex: string[] | undefined;
}

export interface CatalogRelation extends TableName {
  oid: string;
  kind: RelationKind;
  replicaIdentity: ReplicaIdentity;
  /** Whether the connecting role may SELECT from it. */
  canSelect: boolean;
  columns: CatalogColumn[];
  /** Primary key columns in key order; undefined for views and tables without one. */
  primaryKey: string[] | undefined;
  /** Column sets of unique indexes without predicate or expressions, the primary key included. */
  uniqueKeys: string[][];
  /** Columns of the index named by `REPLICA IDENTITY USING INDEX`. */
  replicaIdentityIndex: string[] | undefined;
  /** Foreign keys declared on this table. */
  foreignKeys: CatalogForeignKey[];
  /** Leaf partitions of a partitioned table (empty otherwise). */
  partitions: CatalogPartition[];
}

/** The parts of the system catalog a schema needs, read in a handful of batched queries. */
export interface Catalog {
  database: string;
  /** The connecting role (`current_user`), for GRANT hints. */
  role: string;
  /** Every non-system schema of the database. */
  schemas: Set<string>;
  /** Names of the tables and views of each schema the schema file mentions (for suggestions). */
  relationNames: Map<string, string[]>;
  /** The details of the requested relations that exist, keyed by `key(table)`. */
  relations: Map<string, CatalogRelation>;
}

/** A map key for a table: schema and name, unambiguous whatever characters they hold. */
export function relationKey(table: TableName): string {
  return JSON.stringify([table.schema, table.name]);
}

/** The catalog entry of a table or view, if it exists and was asked for. */
export function findRelation(catalog: Catalog, table: TableName): CatalogRelation | undefined {
  return catalog.relations.get(relationKey(table));
}

const KINDS: Record<string, RelationKind> = {
  r: "table",
  p: "partitioned_table",
  v: "view",
  m: "materialized_view",
  f: "foreign_table",
};
const IDENTITIES: Record<string, ReplicaIdentity> = { d: "default", n: "nothing", f: "full", i: "index" };

/**
 * Reads what the resolver needs about `tables` in five queries, whatever the number of tables:
 * namespaces, relations of the mentioned schemas, their columns, foreign keys, unique indexes
 * (and a sixth for the leaf partitions when a partitioned table is among them).
 */
export async function introspectCatalog(client: Queryable, tables: readonly TableName[]): Promise<Catalog> {
  const head = await client.query<{ database: string; role: string; schemas: string[] }>(
    `SELECT current_database() AS database, current_user::text AS role,
            ARRAY(SELECT nspname::text FROM pg_catalog.pg_namespace
                  WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1) AS schemas`,
  );
  const schemaNames = [...new Set(tables.map((t) => t.schema))];
  const relRows = await client.query<{
    schema: string;
    name: string;
    oid: string;
    relkind: string;
    relreplident: string;
    can_select: boolean;
  }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, c.oid::text AS oid, c.relkind::text AS relkind,
            c.relreplident::text AS relreplident, has_table_privilege(c.oid, 'SELECT') AS can_select
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schemaNames],
  );

  const wanted = new Set(tables.map(relationKey));
  const relationNames = new Map<string, string[]>();
  const relations = new Map<string, CatalogRelation>();
  const byOid = new Map<string, CatalogRelation>();
  for (const row of relRows.rows) {
    const names = relationNames.get(row.schema) ?? [];
    names.push(row.name);
    relationNames.set(row.schema, names);
    const key = relationKey(row);
    if (!wanted.has(key)) continue;
    const relation: CatalogRelation = {
      schema: row.schema,
      name: row.name,
      oid: row.oid,
      kind: KINDS[row.relkind] ?? "table",
      replicaIdentity: IDENTITIES[row.relreplident] ?? "default",
      canSelect: row.can_select,
      columns: [],
      primaryKey: undefined,
      uniqueKeys: [],
      replicaIdentityIndex: undefined,
      foreignKeys: [],
      partitions: [],
    };
    relations.set(key, relation);
    byOid.set(row.oid, relation);
  }

  const oids = [...byOid.keys()];
  if (oids.length > 0) {
    await readColumns(client, oids, byOid);
    await readForeignKeys(client, oids, byOid);
    await readUniqueIndexes(client, oids, byOid);
    const partitioned = [...byOid.values()].filter((r) => r.kind === "partitioned_table").map((r) => r.oid);
    if (partitioned.length > 0) await readPartitions(client, partitioned, byOid);
  }
  return {
    database: head.rows[0]?.database ?? "",
    role: head.rows[0]?.role ?? "",
    schemas: new Set(head.rows[0]?.schemas ?? []),
    relationNames,
    relations,
  };
}

async function readColumns(
  client: Queryable,
  oids: string[],
  byOid: Map<string, CatalogRelation>,
): Promise<void> {
  const result = await client.query<{
    oid: string;
    name: string;
    type: string;
    base_type: string;
    not_null: boolean;
  }>(
    `SELECT a.attrelid::text AS oid, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
            format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END, NULL) AS base_type,
            a.attnotnull AS not_null
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = ANY($1::text[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  for (const row of result.rows) {
    byOid
      .get(row.oid)
      ?.columns.push({ name: row.name, type: row.type, baseType: row.base_type, notNull: row.not_null });
  }
}

async function readForeignKeys(
  client: Queryable,
  oids: string[],
  byOid: Map<string, CatalogRelation>,
): Promise<void> {
  const result = await client.query<{
    name: string;
    oid: string;
    schema: string;
    table: string;
    columns: string[];
    ref_schema: string;
    ref_table: string;
    ref_columns: string[];
  }>(
    `SELECT con.conname::text AS name, con.conrelid::text AS oid,
            n.nspname::text AS schema, c.relname::text AS table,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
                   ORDER BY k.ord) AS columns,
            rn.nspname::text AS ref_schema, rc.relname::text AS ref_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
                   ORDER BY k.ord) AS ref_columns
       FROM pg_catalog.pg_constraint con
       JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
       JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND con.conparentid = 0
        AND (con.conrelid = ANY($1::text[]::oid[]) OR con.confrelid = ANY($1::text[]::oid[]))
      ORDER BY con.conname`,
    [oids],
  );
  for (const row of result.rows) {
    byOid.get(row.oid)?.foreignKeys.push({
      name: row.name,
      table: { schema: row.schema, name: row.table },
      columns: row.columns,
      refTable: { schema: row.ref_schema, name: row.ref_table },
      refColumns: row.ref_columns,
    });
  }
}

async function readUniqueIndexes(
  client: Queryable,
  oids: string[],
  byOid: Map<string, CatalogRelation>,
): Promise<void> {
  const result = await client.query<{ oid: string; primary: boolean; replident: boolean; columns: string[] }>(
    `SELECT i.indrelid::text AS oid, i.indisprimary AS primary, i.indisreplident AS replident,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
                   WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS columns
       FROM pg_catalog.pg_index i
      WHERE i.indrelid = ANY($1::text[]::oid[]) AND i.indisunique AND i.indisvalid
        AND i.indpred IS NULL AND i.indexprs IS NULL
      ORDER BY i.indrelid, i.indisprimary DESC, i.indexrelid`,
    [oids],
  );
  for (const row of result.rows) {
    const relation = byOid.get(row.oid);
    if (!relation) continue;
    relation.uniqueKeys.push(row.columns);
    if (row.primary) relation.primaryKey = row.columns;
    if (row.replident) relation.replicaIdentityIndex = row.columns;
  }
}

/**
 * Leaf partitions and their replica identity: `ALTER TABLE <partitioned> REPLICA IDENTITY` does not
 * reach existing or future partitions (PostgreSQL 15), and WAL rows carry the partitions' identity.
 */
async function readPartitions(
  client: Queryable,
  oids: string[],
  byOid: Map<string, CatalogRelation>,
): Promise<void> {
  const result = await client.query<{
    parent: string;
    schema: string;
    name: string;
    relreplident: string;
    index: string[];
  }>(
    `SELECT p.oid::text AS parent, n.nspname::text AS schema, c.relname::text AS name, c.relreplident::text AS relreplident,
            ARRAY(SELECT a.attname::text FROM pg_catalog.pg_index i
                    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
                   WHERE i.indrelid = c.oid AND i.indisreplident ORDER BY k.ord) AS index
       FROM unnest($1::text[]::oid[]) AS p(oid)
       CROSS JOIN LATERAL pg_partition_tree(p.oid) t
       JOIN pg_catalog.pg_class c ON c.oid = t.relid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE t.isleaf
      ORDER BY 1, 2, 3`,
    [oids],
  );
  for (const row of result.rows) {
    byOid.get(row.parent)?.partitions.push({
      schema: row.schema,
      name: row.name,
      replicaIdentity: IDENTITIES[row.relreplident] ?? "default",
      replicaIdentityIndex: row.index.length > 0 ? row.index : undefined,
    });
  }
}
