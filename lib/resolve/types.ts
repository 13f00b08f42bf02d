import type { TableName } from "../schema";

/** A row change as the resolver needs it: column values as text, keyed by column name. */
export interface RowChange {
  table: TableName;
  action: "I" | "U" | "D";
  /** The new row (insert, update). Unchanged TOASTed columns may be absent. */
  newRow: Record<string, unknown> | undefined;
  /** The old row as the WAL carries it: the key only, or every column with REPLICA IDENTITY FULL. */
  oldRow: Record<string, unknown> | undefined;
}

/** A root key: the text of each primary key column of the index's root table, in key order. */
export type RootKeyText = string[];

/**
 * Rows of one table that affected documents contain, found by column values: "the rows of `table`
 * where `columns` equal one of `values`". The resolver climbs from them to the root.
 */
export interface Anchor {
  index: number;
  /** The node whose table the anchor's rows belong to, or whose through table they belong to. */
  nodeId: number;
  /** `node`: rows of the node's table; `through`: rows of the node's through table. */
  on: "node" | "through";
  columns: string[];
  values: string[];
}

/** What a TRUNCATE of a table means for one index. */
export type TruncateEffect = { index: number; effect: "clear" | "rebuild" };
