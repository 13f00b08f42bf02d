import type { Queryable, TableName } from "../schema";

/** One leaf partition of a partitioned table the schema uses, as the catalog shows it now. */
export interface LeafPartition {
  parent: TableName;
  leaf: TableName;
  /** `pg_class.relreplident`: `d` default, `f` full, `i` index, `n` nothing. */
  replicaIdentity: string;
  /** `pg_class.oid`: a partition dropped and created again under the same name is another leaf. */
  oid?: string;
}

/**
 * The leaf partitions of `parents` now, in one catalog query. A parent that is no longer
 * partitioned (or gone) has none. `pg_partition_tree` walks sub-partitions too: WAL rows always
 * name the leaf a row is stored in.
 */
export async function readLeafPartitions(
  db: Queryable,
  parents: readonly TableName[],
): Promise<LeafPartition[]> {
  if (parents.length === 0) return [];
  const { rows } = await db.query<{
    ps: string;
    pn: string;
    ls: string;
    ln: string;
    replident: string;
    oid: string;
  }>(
    `SELECT p.s AS ps, p.n AS pn, ln.nspname::text AS ls, lc.relname::text AS ln, lc.relreplident::text AS replident,
            lc.oid::text AS oid
       FROM unnest($1::text[], $2::text[]) AS p(s, n)
       JOIN pg_catalog.pg_namespace pns ON pns.nspname = p.s
       JOIN pg_catalog.pg_class pc ON pc.relnamespace = pns.oid AND pc.relname = p.n AND pc.relkind = 'p'
       CROSS JOIN LATERAL pg_partition_tree(pc.oid) t
       JOIN pg_catalog.pg_class lc ON lc.oid = t.relid
       JOIN pg_catalog.pg_namespace ln ON ln.oid = lc.relnamespace
      WHERE t.isleaf
      ORDER BY 1, 2, 3, 4`,
    [parents.map((p) => p.schema), parents.map((p) => p.name)],
  );
  return rows.map((r) => ({
    parent: { schema: r.ps, name: r.pn },
    leaf: { schema: r.ls, name: r.ln },
    replicaIdentity: r.replident,
    oid: r.oid,
  }));
}

/**
 * A stable text form of a leaf, for comparing leaf sets across cycles and processes. With the oid,
 * so a partition dropped and created again under its name between two cycles counts as a change.
 */
export function leafKey(leaf: Pick<LeafPartition, "parent" | "leaf" | "oid">): string {
  const key = [leaf.parent.schema, leaf.parent.name, leaf.leaf.schema, leaf.leaf.name];
  return JSON.stringify(leaf.oid === undefined ? key : [...key, leaf.oid]);
}

/**
 * The parents whose leaf set differs between `before` and `after` (leaf keys as {@link leafKey}
 * writes them): a partition was created, attached, detached or dropped. No row change tells of an
 * attach or detach, so the rows that came or went must be found by reconciling.
 */
export function changedParents(before: readonly string[], after: readonly string[]): TableName[] {
  const a = new Set(before);
  const b = new Set(after);
  const parents = new Map<string, TableName>();
  const note = (key: string) => {
    const [schema, name] = JSON.parse(key) as [string, string];
    parents.set(JSON.stringify([schema, name]), { schema, name });
  };
  for (const key of a) if (!b.has(key)) note(key);
  for (const key of b) if (!a.has(key)) note(key);
  return [...parents.values()];
}
