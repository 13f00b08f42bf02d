import { qualifiedName, type ResolvedNode } from "../schema";
import { columnList, columnSql, joinCondition, jsonObject, type Pair } from "./sql-expr";
import { nodeFiltersSql } from "./sql-filter";

/** The table alias of node `id`; through tables get `x<id>`. */
export const nodeAlias = (node: ResolvedNode) => `n${node.id}`;
const throughAlias = (node: ResolvedNode) => `x${node.id}`;

/**
 * The SQL expression of a node's object: its columns, then one entry per child. Child values are
 * correlated subqueries, so each level is read by index lookups on the join columns and the
 * whole document is one statement, with no query per row.
 */
export function nodeObjectSql(node: ResolvedNode): string {
  const alias = nodeAlias(node);
  const pairs: Pair[] = node.columns.map((c) => [c.field, columnSql(alias, c)]);
  for (const child of node.children) pairs.push([child.field, childValueSql(child, alias)]);
  return jsonObject(pairs);
}

/** What a node contributes to each row: its object, or its one column for the scalar variant. */
function nodeValueSql(node: ResolvedNode): string {
  if (node.relationship?.variant === "scalar") {
    const [column] = node.columns;
    return column ? columnSql(nodeAlias(node), column) : "NULL";
  }
  return nodeObjectSql(node);
}

/**
 * The value of a child under its parent row `parentAlias`, following PGSync's shapes:
 * - one_to_one: the child's object (or scalar), `null` when there is no child row;
 * - one_to_many: an array of them, `null` (not `[]`) when there are none;
 * - through a table: always an array (PGSync aggregates through rows whatever the type).
 * Arrays are ordered by the child's primary key so the same data always gives the same document.
 */
export function childValueSql(child: ResolvedNode, parentAlias: string): string {
  const join = child.join;
  if (!join) throw new Error(`node ${child.path} has no join`);
  const alias = nodeAlias(child);
  const table = `${qualifiedName(child.table)} AS ${alias}`;
  const value = nodeValueSql(child);
  const order = columnList(alias, child.table.primaryKey);
  // Row filters of the child: rows that fail are left out of the parent's document.
  const filters = nodeFiltersSql(alias, child);

  if (join.kind === "through") {
    const x = throughAlias(child);
    const throughOrder =
      join.through.primaryKey.length > 0 ? `, ${columnList(x, join.through.primaryKey)}` : "";
    return (
      `(SELECT json_agg(${value} ORDER BY ${order}${throughOrder})` +
      ` FROM ${qualifiedName(join.through)} AS ${x}` +
      ` JOIN ${table} ON ${joinCondition(alias, join.childColumns, x, join.throughChildColumns)}` +
      ` WHERE ${joinCondition(x, join.throughParentColumns, parentAlias, join.parentColumns)}${filters})`
    );
  }

  const where = joinCondition(alias, join.childColumns, parentAlias, join.parentColumns) + filters;
  if (child.relationship?.type === "one_to_many") {
    return `(SELECT json_agg(${value} ORDER BY ${order}) FROM ${table} WHERE ${where})`;
  }
  // one_to_one: when the join columns are unique there is at most one row; otherwise take the
  // first by primary key, so a one_to_one declared over many rows still gives a stable document.
  const limit = child.uniqueJoin ? "" : ` ORDER BY ${order} LIMIT 1`;
  return `(SELECT ${value} FROM ${table} WHERE ${where}${limit})`;
}
