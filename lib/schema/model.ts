/**
 * The resolved model: a parsed schema checked against the database, with every join spelled out in
 * columns. It is what the SQL document builder and the change resolver work from.
 */
import type { CatalogColumn, RelationKind, ReplicaIdentity } from "./catalog";
import type {
  FilterOp,
  FilterValue,
  IndexSpec,
  JsonPathStep,
  RelationshipType,
  RelationshipVariant,
  RuleOperation,
  TableName,
  TransformSpec,
} from "./types";

export interface ResolvedTable extends TableName {
  kind: RelationKind;
  replicaIdentity: ReplicaIdentity;
  /** Columns identifying a row: the primary key, or the declared `primary_key` of a view. */
  primaryKey: string[];
  /** SQL type of each primary key column (castable, e.g. `integer`), position by position. */
  primaryKeyTypes: string[];
  /** Base type of each primary key column (under domains), e.g. `boolean`. */
  primaryKeyBaseTypes: string[];
  columns: CatalogColumn[];
  /**
   * Leaf partitions of a partitioned table (empty otherwise). WAL rows name the partition, not
   * this table, so a change resolver maps them back here.
   */
  partitions: TableName[];
}

/** A value of the node object read from a column, possibly through JSON operators. */
export interface ResolvedColumn {
  /** The key in the document (after `transform.rename`). */
  field: string;
  /** PGSync's name for the value before rename, e.g. `doc_a_0_b`. */
  name: string;
  /** The table column read. */
  column: string;
  path: JsonPathStep[];
  /** SQL type of the column, e.g. `jsonb`. */
  type: string;
}

/**
 * Who holds the key. `child_holds_key`: the child's columns reference the parent (review.book_id ->
 * book.id), so a parent has many children. `parent_holds_key`: the parent's columns reference the
 * child (book.publisher_id -> publisher.id).
 */
export type JoinDirection = "child_holds_key" | "parent_holds_key";

/** Child rows of a parent row are those with `child.childColumns[i] = parent.parentColumns[i]` for all i. */
export interface DirectJoin {
  kind: "direct";
  childColumns: string[];
  parentColumns: string[];
  direction: JoinDirection;
  /** The foreign key constraint the join follows, when there is one. */
  constraint: string | undefined;
}

/**
 * Child rows of a parent row are reached through `through` rows with
 * `through.throughParentColumns = parent.parentColumns` and `child.childColumns = through.throughChildColumns`.
 */
export interface ThroughJoin {
  kind: "through";
  through: ResolvedTable;
  throughParentColumns: string[];
  parentColumns: string[];
  throughChildColumns: string[];
  childColumns: string[];
  parentConstraint: string | undefined;
  childConstraint: string | undefined;
}

export type ResolvedJoin = DirectJoin | ThroughJoin;

export interface ResolvedNode {
  /** Position in pre-order; the root is 0. Also `index.nodes[id]`. */
  id: number;
  /** JSON path of the node in the schema file. */
  path: string;
  label: string;
  /** Key of this node in its parent's object: the label after the parent's rename. */
  field: string;
  table: ResolvedTable;
  columns: ResolvedColumn[];
  /**
   * True when the schema names no columns: the node takes every column the table has, so a column
   * added later belongs in its documents too (the builders are made again, see lib/runtime).
   */
  allColumns?: boolean;
  /** Absent on the root. */
  relationship: { type: RelationshipType; variant: RelationshipVariant } | undefined;
  /** How the node joins its parent; absent on the root. */
  join: ResolvedJoin | undefined;
  /** True when a parent row can match at most one child row (the child's join columns are unique). */
  uniqueJoin: boolean;
  transform: TransformSpec;
  /** Tables behind a view node. */
  baseTables: TableName[];
  parentId: number | undefined;
  children: ResolvedNode[];
  /** The `slotsync.rules` that apply to this node, checked against its table. */
  rules: NodeRules;
}

/** A filter rule checked against the node's table. */
export interface ResolvedFilter {
  /** JSON path of the rule in the schema file. */
  path: string;
  /** Column of the node's table. */
  column: string;
  /** The column's SQL type, usable in a cast. */
  type: string;
  /** The type under any domain, e.g. `integer`. */
  baseType: string;
  op: FilterOp;
  value: FilterValue;
}

/** A change filter: a filter limited to some operations, checked on WAL rows by the poller. */
export interface ResolvedChangeFilter extends ResolvedFilter {
  operations: RuleOperation[];
}

/** A value transform on one field of the node's object (after rename). */
export type ResolvedValueRule =
  | { path: string; field: string; type: "regex"; pattern: string; flags: string; replace: string }
  | { path: string; field: string; type: "mask"; maskChar: string };

export interface NodeRules {
  /** Row filters: rows that fail have no document (root) or are left out (child). */
  filters: ResolvedFilter[];
  /** Change filters, for the live sync only. */
  changeFilters: ResolvedChangeFilter[];
  /** Regex and mask rules, in schema order, applied before PGSync's transforms. */
  values: ResolvedValueRule[];
}

/** Where a table appears in an index's tree; the change resolver starts here. */
export interface TableUse {
  table: TableName;
  role: "node" | "through" | "base";
  nodeId: number;
}

export interface ResolvedIndex {
  spec: IndexSpec;
  root: ResolvedNode;
  /** Every node in pre-order (`nodes[i].id === i`). */
  nodes: ResolvedNode[];
  tableUses: TableUse[];
}

/** A table whose WAL records must carry more of the old row than they do now. */
export interface ReplicaIdentityNeed {
  table: TableName;
  current: ReplicaIdentity;
  /** Columns the change resolver must read from the old row of an UPDATE or DELETE. */
  columns: string[];
  /** Why, one line per use in the schema. */
  reasons: string[];
  /** The statement that fixes it. */
  sql: string;
}

export interface TableReplicaIdentity extends TableName {
  kind: RelationKind;
  /** Current `pg_class.relreplident`. */
  replicaIdentity: ReplicaIdentity;
  /** For a leaf partition: the partitioned table the schema names. */
  partitionOf?: TableName;
}

export interface ResolvedSchema {
  /** The database the client is connected to. */
  database: string;
  indices: ResolvedIndex[];
  /** Every table and view the schema reads, with its current replica identity. */
  tables: TableReplicaIdentity[];
  /** Tables that need `REPLICA IDENTITY FULL` and do not have enough today. */
  replicaIdentityNeeds: ReplicaIdentityNeed[];
}
