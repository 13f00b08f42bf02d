import type { ResolvedIndex, ResolvedNode, TableName } from "../schema";
import type { Anchor, RootKeyText, RowChange } from "./types";

/** Text of `columns` in `row`, or undefined when a column is missing or null (nothing to follow). */
export function pick(
  row: Record<string, unknown> | undefined,
  columns: readonly string[],
): string[] | undefined {
  if (!row) return undefined;
  const values: string[] = [];
  for (const column of columns) {
    const value = row[column];
    if (value === undefined || value === null) return undefined;
    values.push(
      typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value),
    );
  }
  return values;
}

export function sameTable(a: TableName, b: TableName): boolean {
  return a.schema === b.schema && a.name === b.name;
}

/** What one use of the changed table in one index leads to: root keys directly, or anchors to climb from. */
export interface Found {
  keys: RootKeyText[];
  anchors: Anchor[];
}

/**
 * The documents a change can affect through one use of its table. Both the new and the old row
 * count: a row that moved (new parent, new key) leaves one document and enters another.
 */
export function findAffected(
  index: ResolvedIndex,
  indexNo: number,
  use: { role: string; nodeId: number },
  change: RowChange,
): Found {
  const found: Found = { keys: [], anchors: [] };
  const rows = [change.newRow, change.oldRow];
  const node = index.nodes[use.nodeId];
  if (!node) return found;

  if (use.role === "through") {
    // A link row of `node`'s through table: the documents of the parent rows it points at.
    const join = node.join;
    const parent = parentOf(index, node);
    if (join?.kind !== "through" || !parent) return found;
    for (const row of rows) {
      const values = pick(row, join.throughParentColumns);
      if (values) addAnchor(index, indexNo, found, parent, "node", join.parentColumns, values);
    }
    return found;
  }

  if (use.role === "base") {
    // A base table of a view node: the view's rows that carry the same key values.
    for (const row of rows) {
      const values = pick(row, node.table.primaryKey);
      if (values) addAnchor(index, indexNo, found, node, "node", node.table.primaryKey, values);
    }
    return found;
  }

  if (node.id === index.root.id) {
    for (const row of rows) {
      const values = pick(row, node.table.primaryKey);
      if (values) found.keys.push(values);
    }
    return found;
  }

  const parent = parentOf(index, node);
  const join = node.join;
  if (!parent || !join) return found;
  for (const row of rows) {
    const values = pick(row, join.childColumns);
    if (!values) continue;
    if (join.kind === "direct") {
      // Either direction: the parent rows whose parentColumns equal this row's childColumns.
      addAnchor(index, indexNo, found, parent, "node", join.parentColumns, values);
    } else {
      // The link rows that point at this row, then their parents.
      found.anchors.push({
        index: indexNo,
        nodeId: node.id,
        on: "through",
        columns: join.throughChildColumns,
        values,
      });
    }
  }
  return found;
}

/** Adds an anchor, or the root key itself when the anchor is the root's primary key. */
function addAnchor(
  index: ResolvedIndex,
  indexNo: number,
  found: Found,
  node: ResolvedNode,
  on: "node",
  columns: string[],
  values: string[],
): void {
  if (node.id === index.root.id) {
    const pk = node.table.primaryKey;
    if (pk.length === columns.length && pk.every((c) => columns.includes(c))) {
      found.keys.push(pk.map((c) => values[columns.indexOf(c)] ?? ""));
      return;
    }
  }
  found.anchors.push({ index: indexNo, nodeId: node.id, on, columns, values });
}

export function parentOf(index: ResolvedIndex, node: ResolvedNode): ResolvedNode | undefined {
  return node.parentId === undefined ? undefined : index.nodes[node.parentId];
}

/**
 * Columns of `table` whose values any document of the index depends on through this use: the key,
 * the columns read, and every join column on this table. An UPDATE that leaves all of them equal
 * (which only a full old row can show) changes no document.
 */
export function usedColumns(
  index: ResolvedIndex,
  use: { role: string; nodeId: number },
): Set<string> | "all" | undefined {
  const node = index.nodes[use.nodeId];
  if (!node) return new Set();
  if (use.role === "base") return undefined; // A view's columns need not map onto its base tables.
  // Every column is in the document, including one added after the schema was resolved.
  if (use.role === "node" && node.allColumns) return "all";
  const used = new Set<string>();
  if (use.role === "through") {
    if (node.join?.kind === "through") {
      for (const c of node.join.throughParentColumns) used.add(c);
      for (const c of node.join.throughChildColumns) used.add(c);
    }
    return used;
  }
  for (const c of node.table.primaryKey) used.add(c);
  for (const c of node.columns) used.add(c.column);
  // A row that starts or stops passing a filter gains or loses its document (or its place in one).
  for (const f of node.rules.filters) used.add(f.column);
  if (node.join) for (const c of node.join.childColumns) used.add(c);
  for (const child of node.children) if (child.join) for (const c of child.join.parentColumns) used.add(c);
  return used;
}

/**
 * True when the old row is complete and equals the new one on every used column. `all` (a node
 * that takes every column): on every column of either row, so a column added since the schema was
 * resolved counts too.
 */
export function unchanged(change: RowChange, used: Set<string> | "all" | undefined): boolean {
  if (change.action !== "U" || !used || !change.oldRow || !change.newRow) return false;
  const columns =
    used === "all" ? new Set([...Object.keys(change.oldRow), ...Object.keys(change.newRow)]) : used;
  for (const column of columns) {
    if (!(column in change.oldRow) || !(column in change.newRow)) return false;
    if (JSON.stringify(change.oldRow[column]) !== JSON.stringify(change.newRow[column])) return false;
  }
  return true;
}
