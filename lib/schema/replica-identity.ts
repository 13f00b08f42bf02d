import {
  type Catalog,
  type CatalogPartition,
  type CatalogRelation,
  findRelation,
  relationKey,
} from "./catalog";
import type { ReplicaIdentityNeed, ResolvedIndex, ResolvedNode } from "./model";
import { displayName, qualifiedName } from "./sql";
import type { TableName } from "./types";

/**
 * Columns whose old values the WAL carries for UPDATE and DELETE, given the table's replica
 * identity; `"all"` for FULL.
 */
export function identityColumns(relation: CatalogRelation): string[] | "all" {
  switch (relation.replicaIdentity) {
    case "full":
      return "all";
    case "index":
      return relation.replicaIdentityIndex ?? [];
    case "nothing":
      return [];
    default:
      return relation.primaryKey ?? [];
  }
}

function partitionIdentity(partition: CatalogPartition, parent: CatalogRelation): string[] | "all" {
  switch (partition.replicaIdentity) {
    case "full":
      return "all";
    case "index":
      return partition.replicaIdentityIndex ?? [];
    case "nothing":
      return [];
    default:
      // A partition's primary key index has the columns of its parent's.
      return parent.primaryKey ?? [];
  }
}

/** Only tables produce WAL rows of their own; views and foreign tables are read, never decoded. */
function decoded(relation: CatalogRelation): boolean {
  return relation.kind === "table" || relation.kind === "partitioned_table";
}

/**
 * Finds the tables whose UPDATE/DELETE records would not tell the change resolver which parent a
 * row belonged to. A row's join columns toward its parent must be in its replica identity: when a
 * review is deleted, or moved to another book, only the old `book_id` says which book document to
 * rebuild, and with the default identity the WAL carries the review's primary key alone. A through
 * table needs its parent-side columns; a through table whose primary key contains them needs
 * nothing. Also reports a root table with `REPLICA IDENTITY NOTHING` (its deletes name no row).
 * For a partitioned table each leaf partition is checked and fixed on its own, since the setting
 * of the partitioned table does not reach them.
 */
export function replicaIdentityNeeds(
  indices: readonly ResolvedIndex[],
  catalog: Catalog,
): ReplicaIdentityNeed[] {
  const needs = new Map<string, ReplicaIdentityNeed>();
  const require = (table: TableName, columns: string[], reason: string) => {
    const relation = findRelation(catalog, table);
    if (!relation || !decoded(relation)) return;
    // WAL rows of a partitioned table come from its leaf partitions, each with its own identity.
    const targets =
      relation.kind === "partitioned_table"
        ? relation.partitions.map((p) => ({
            table: p,
            current: p.replicaIdentity,
            carried: partitionIdentity(p, relation),
          }))
        : [{ table: relation, current: relation.replicaIdentity, carried: identityColumns(relation) }];
    for (const target of targets) {
      const { carried } = target;
      if (carried === "all" || columns.every((c) => carried.includes(c))) continue;
      const key = relationKey(target.table);
      const need = needs.get(key) ?? {
        table: { schema: target.table.schema, name: target.table.name },
        current: target.current,
        columns: [],
        reasons: [],
        sql: `ALTER TABLE ${qualifiedName(target.table)} REPLICA IDENTITY FULL;`,
      };
      for (const c of columns) if (!need.columns.includes(c)) need.columns.push(c);
      need.reasons.push(reason);
      needs.set(key, need);
    }
  };

  for (const index of indices) {
    for (const node of index.nodes) {
      if (!node.join) {
        require(node.table, node.table
          .primaryKey, `${index.spec.path}: ${displayName(node.table)} is the root; deletes must carry its primary key (${node.table.primaryKey.join(", ")})`);
        continue;
      }
      const parent = index.nodes[node.parentId ?? 0] as ResolvedNode;
      const join = node.join;
      if (join.kind === "direct") {
        require(node.table, join.childColumns, reasonFor(node, parent.table, join.childColumns, node.table));
      } else {
        require(join.through, join.throughParentColumns, reasonFor(
          node,
          parent.table,
          join.throughParentColumns,
          join.through,
        ));
        require(node.table, join.childColumns, reasonFor(node, join.through, join.childColumns, node.table));
      }
    }
  }
  return [...needs.values()];
}

function reasonFor(node: ResolvedNode, toward: TableName, columns: string[], table: TableName): string {
  const cols = columns.map((c) => `${table.name}.${c}`).join(", ");
  return (
    `${node.path}: ${cols} joins ${displayName(table)} to ${displayName(toward)}; with the current replica identity ` +
    "a DELETE, or an UPDATE that changes it, does not say which row it belonged to"
  );
}
