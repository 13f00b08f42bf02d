import {
  qualifiedName,
  quoteIdent,
  type ResolvedIndex,
  type ResolvedNode,
  type ResolvedTable,
} from "../schema";
import { parentOf } from "./anchors";

/**
 * SQL that finds the root keys of the documents containing the anchor rows: start from the rows
 * of one table matching a list of column values (passed as one array parameter per column), then
 * join parent by parent up to the root. One statement per anchor group, however many rows.
 */
export function ascendSql(
  index: ResolvedIndex,
  nodeId: number,
  on: "node" | "through",
  columns: string[],
): string {
  const node = index.nodes[nodeId];
  if (!node) throw new Error(`no node ${nodeId} in index ${index.spec.index}`);
  const joins: string[] = [];
  let alias = 0;
  const next = () => `t${++alias}`;

  const startTable = on === "through" && node.join?.kind === "through" ? node.join.through : node.table;
  const start = "t0";
  const params = columns.map((c, i) => `$${i + 1}::${columnType(startTable, c)}[]`).join(", ");
  const anchorCols = columns.map((_, i) => `v${i}`).join(", ");
  const on0 = columns.map((c, i) => `${start}.${quoteIdent(c)} = a.v${i}`).join(" AND ");
  joins.push(`FROM unnest(${params}) AS a(${anchorCols})`);
  joins.push(`JOIN ${qualifiedName(startTable)} ${start} ON ${on0}`);

  let current: ResolvedNode = node;
  let currentAlias = start;
  if (on === "through") {
    // From the link rows to the parent rows they point at.
    const join = node.join;
    const parent = parentOf(index, node);
    if (join?.kind !== "through" || !parent) throw new Error(`node ${node.path} has no through table`);
    const p = next();
    joins.push(
      `JOIN ${qualifiedName(parent.table)} ${p} ON ${equal(p, join.parentColumns, currentAlias, join.throughParentColumns)}`,
    );
    current = parent;
    currentAlias = p;
  }
  while (current.id !== index.root.id) {
    const parent = parentOf(index, current);
    const join = current.join;
    if (!parent || !join) throw new Error(`node ${current.path} has no parent join`);
    if (join.kind === "direct") {
      const p = next();
      joins.push(
        `JOIN ${qualifiedName(parent.table)} ${p} ON ${equal(p, join.parentColumns, currentAlias, join.childColumns)}`,
      );
      currentAlias = p;
    } else {
      const x = next();
      const p = next();
      joins.push(
        `JOIN ${qualifiedName(join.through)} ${x} ON ${equal(x, join.throughChildColumns, currentAlias, join.childColumns)}`,
      );
      joins.push(
        `JOIN ${qualifiedName(parent.table)} ${p} ON ${equal(p, join.parentColumns, x, join.throughParentColumns)}`,
      );
      currentAlias = p;
    }
    current = parent;
  }
  const keys = index.root.table.primaryKey
    .map((c, i) => `${currentAlias}.${quoteIdent(c)}::text AS k${i}`)
    .join(", ");
  return `SELECT DISTINCT ${keys}\n${joins.join("\n")}`;
}

function equal(leftAlias: string, left: string[], rightAlias: string, right: string[]): string {
  return left
    .map((c, i) => `${leftAlias}.${quoteIdent(c)} = ${rightAlias}.${quoteIdent(right[i] ?? "")}`)
    .join(" AND ");
}

function columnType(table: ResolvedTable, column: string): string {
  const type = table.columns.find((c) => c.name === column)?.type;
  if (!type) throw new Error(`column ${column} not found on ${table.schema}.${table.name}`);
  return type;
}
