/**
 * The parsed, statically validated form of a PGSync `schema.json` (before the database is consulted).
 *
 * Names follow PGSync: an index definition has `database`, `index`, `nodes`, ...; a node has `table`,
 * `schema`, `columns`, `label`, `relationship`, `children`, `transform`, ...
 */

/** A JSON value as it appears in a schema file. */
export type JsonLike = null | boolean | number | string | JsonLike[] | { [key: string]: JsonLike };
export type JsonLikeObject = { [key: string]: JsonLike };

export type RelationshipType = "one_to_one" | "one_to_many";
export type RelationshipVariant = "object" | "scalar";

export const RELATIONSHIP_TYPES: readonly RelationshipType[] = ["one_to_one", "one_to_many"];
export const RELATIONSHIP_VARIANTS: readonly RelationshipVariant[] = ["object", "scalar"];

/** A table (or view) named by schema and name. */
export interface TableName {
  schema: string;
  name: string;
}

/**
 * One step of a JSON path in a column spec: `doc->a->0` is column `doc` then `{op:"->", key:"a"}`
 * then `{op:"->", index:0}`; `doc#>{a,b}` is `{op:"#>", path:["a","b"]}`.
 */
export type JsonPathStep =
  | { op: "->" | "->>"; key: string }
  | { op: "->" | "->>"; index: number }
  | { op: "#>" | "#>>"; path: string[]; literal: string };

/** A column entry of a node's `columns` list. */
export interface ColumnSpec {
  /** The entry as written in the schema, e.g. `doc->a->0->b`. */
  source: string;
  /** The table column the entry reads, e.g. `doc`. */
  column: string;
  /** JSON operators applied to the column; empty for a plain column. */
  path: JsonPathStep[];
  /** The field name PGSync gives the value before any rename, e.g. `doc_a_0_b`. */
  name: string;
}

export interface ForeignKeySpec {
  /** Columns of the child node's table, position by position with `parent`. */
  child: string[];
  /** Columns of the parent node's table. */
  parent: string[];
}

export interface RelationshipSpec {
  type: RelationshipType;
  variant: RelationshipVariant;
  /** The intermediate table joining parent and child, if any (PGSync allows at most one). */
  through?: TableName;
  foreignKey?: ForeignKeySpec;
}

export interface ConcatSpec {
  /** Field names of the node object; a name that is not a field is used as literal text (PGSync). */
  columns: string[];
  destination: string;
  delimiter: string;
}

export interface MoveSpec {
  /** Field of the node object to move (its name before or after rename). */
  column: string;
  /** `$root.a.b` (from the document root) or `a.b` (inside the node object). */
  destination: string;
  /** The destination split on dots, without `$root`. */
  destinationPath: string[];
  absolute: boolean;
}

export interface TransformSpec {
  /** Field name before rename -> after. Applied when the document is built (in SQL). */
  rename: Record<string, string>;
  /** Field -> (search -> replacement), applied to string values. */
  replace: Record<string, Record<string, string>>;
  concat: ConcatSpec[];
  /** Field -> Elasticsearch mapping of the field. */
  mapping: Record<string, JsonLikeObject>;
  move: MoveSpec[];
}

export interface NodeSpec {
  /** JSON path of this node in the schema file, used in problem reports. */
  path: string;
  table: string;
  schema: string;
  /** The key of this node in its parent's object; defaults to the table name. */
  label: string;
  /** `undefined` means every column of the table (PGSync's default). */
  columns: ColumnSpec[] | undefined;
  /** Declared key columns, required for views (which have no primary key). */
  primaryKey: string[] | undefined;
  /** Tables a view reads; changes to them count as changes to this node. */
  baseTables: TableName[];
  /** Absent on the root node. */
  relationship: RelationshipSpec | undefined;
  transform: TransformSpec;
  children: NodeSpec[];
}

/** One index definition: one element of the schema file's top-level array. */
export interface IndexSpec {
  /** JSON path of this definition, e.g. `[0]`. */
  path: string;
  database: string;
  /** The Elasticsearch index name; PGSync defaults it to the database name. */
  index: string;
  nodes: NodeSpec;
  /** Index settings, sent as `settings.index` when the index is created (as PGSync does). */
  setting: JsonLikeObject | undefined;
  /** Field mappings (PGSync's `mapping`): `properties`, or a whole mappings object with `dynamic_templates`. */
  mapping: JsonLikeObject | undefined;
  /** A whole Elasticsearch `mappings` object. */
  mappings: JsonLikeObject | undefined;
  /** Field of the document whose value routes it to a shard. */
  routing: string | undefined;
  /** Ingest pipeline to index through. */
  pipeline: string | undefined;
  /** Plugin names, applied in this order. */
  plugins: string[];
  /** slotsync's own extension of the index definition (a key PGSync ignores), as written. */
  slotsync: JsonLike | undefined;
  /** Filter and transform rules from `slotsync.rules`, in the order written. */
  rules: RuleSpec[];
}

/** Comparison of a filter rule. `ge`/`le` are also accepted as `gte`/`lte` (pg_flo's names). */
export type FilterOp = "eq" | "ne" | "gt" | "lt" | "ge" | "le" | "contains";
export const FILTER_OPS: readonly FilterOp[] = ["eq", "ne", "gt", "lt", "ge", "le", "contains"];

/** A row operation a change filter may be limited to. */
export type RuleOperation = "insert" | "update" | "delete";
export const RULE_OPERATIONS: readonly RuleOperation[] = ["insert", "update", "delete"];

/** The constant a filter compares with. */
export type FilterValue = string | number | boolean | null;

interface RuleBase {
  /** JSON path of the rule in the schema file, for problem reports. */
  path: string;
  /** The node the rule applies to: `$root`, or `$root.<label>.<label>...` down the tree. */
  node: string;
  /** For a filter, a column of the node's table; for a transform, a field of the node's object. */
  column: string;
}

/**
 * Keeps or drops rows. Without `operations` it is a row filter: a root row that fails has no
 * document, a child row that fails is left out of its parent's document (bootstrap, live sync and
 * render alike). With `operations` it is a change filter: changes of those operations whose row
 * fails are not synced (live sync only).
 */
export interface FilterRuleSpec extends RuleBase {
  type: "filter";
  op: FilterOp;
  value: FilterValue;
  operations: RuleOperation[] | undefined;
}

/** Replaces every match of a regular expression in a string field. */
export interface RegexRuleSpec extends RuleBase {
  type: "regex";
  pattern: string;
  /** JavaScript replacement syntax: `$1`, `$<name>`, `$&`, `$$`. */
  replace: string;
  /** RegExp flags; `g` is always added. */
  flags: string;
}

/** Hides a string field but its first and last character. */
export interface MaskRuleSpec extends RuleBase {
  type: "mask";
  maskChar: string;
}

export type RuleSpec = FilterRuleSpec | RegexRuleSpec | MaskRuleSpec;

/** A whole schema file: one or more index definitions. */
export type SchemaSpec = IndexSpec[];
