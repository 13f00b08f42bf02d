import { didYouMean } from "../errors";
import { parseColumnEntry } from "./columns";
import { emptyTransform, parseTransform } from "./parse-transform";
import { childPath, describe, isObject, type Problems } from "./problems";
import {
  type ColumnSpec,
  type ForeignKeySpec,
  type JsonLike,
  type JsonLikeObject,
  type NodeSpec,
  RELATIONSHIP_TYPES,
  RELATIONSHIP_VARIANTS,
  type RelationshipSpec,
  type TableName,
} from "./types";

export const NODE_KEYS = [
  "table",
  "schema",
  "columns",
  "label",
  "primary_key",
  "base_tables",
  "children",
  "relationship",
  "transform",
] as const;
const RELATIONSHIP_KEYS = ["type", "variant", "through_tables", "foreign_key"] as const;
const FOREIGN_KEY_KEYS = ["child", "parent"] as const;

export const DEFAULT_SCHEMA = "public";

/**
 * Splits `schema.table` (PGSync's way of naming a through table in another schema); a name without
 * a dot is in `defaultSchema`.
 */
export function splitTableName(name: string, defaultSchema: string): TableName {
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1) return { schema: defaultSchema, name };
  return { schema: name.slice(0, dot), name: name.slice(dot + 1) };
}

/**
 * Parses a node object and its children. Returns undefined only when the node is unusable (no
 * table); otherwise a best-effort node so that problems further down are still found.
 */
export function parseNode(
  value: JsonLike,
  path: string,
  problems: Problems,
  isRoot: boolean,
): NodeSpec | undefined {
  if (!isObject(value)) {
    const hint = Array.isArray(value)
      ? ' (PGSync v1 listed nodes in an array; since v2 "nodes" is the root node object with "children")'
      : "";
    problems.add(path, `expected a node (a JSON object with "table"), got ${describe(value)}${hint}`);
    return undefined;
  }
  problems.unknownKeys(value, path, NODE_KEYS, "node");

  const table = problems.string(value.table, childPath(path, "table"), "table");
  if (value.table === undefined) problems.add(path, 'every node needs "table" (the table or view to read)');
  const schema = problems.string(value.schema, childPath(path, "schema"), "schema") ?? DEFAULT_SCHEMA;
  const label = problems.string(value.label, childPath(path, "label"), "label") ?? table ?? "";
  const columns = parseColumns(value.columns, childPath(path, "columns"), problems);
  const primaryKey = problems.strings(value.primary_key, childPath(path, "primary_key"), "primary_key");
  if (primaryKey && primaryKey.length === 0) {
    problems.add(childPath(path, "primary_key"), "list at least one column, or remove primary_key");
  }
  const baseTables = (
    problems.strings(value.base_tables, childPath(path, "base_tables"), "base_tables") ?? []
  ).map((name) => splitTableName(name, schema));
  const relationship = isRoot
    ? undefined // PGSync ignores a relationship on the root node, so we do too.
    : parseRelationship(value.relationship, childPath(path, "relationship"), path, schema, problems);
  const transform =
    value.transform === undefined
      ? emptyTransform()
      : parseTransform(value.transform, childPath(path, "transform"), problems);

  const children: NodeSpec[] = [];
  if (value.children !== undefined) {
    const childrenPath = childPath(path, "children");
    if (!Array.isArray(value.children)) {
      problems.add(childrenPath, `expected children (an array of nodes), got ${describe(value.children)}`);
    } else {
      value.children.forEach((child, i) => {
        const node = parseNode(child, childPath(childrenPath, i), problems, false);
        if (node) children.push(node);
      });
    }
  }
  if (table === undefined) return undefined;

  const node: NodeSpec = {
    path,
    table,
    schema,
    label,
    columns,
    primaryKey: primaryKey && primaryKey.length > 0 ? primaryKey : undefined,
    baseTables,
    relationship,
    transform,
    children,
  };
  checkScalar(node, value, problems);
  checkFieldNames(node, problems);
  return node;
}

function parseColumns(
  value: JsonLike | undefined,
  path: string,
  problems: Problems,
): ColumnSpec[] | undefined {
  const entries = problems.strings(value, path, "columns");
  // PGSync treats a missing or empty list as "every column of the table".
  if (!entries || entries.length === 0) return undefined;
  const columns: ColumnSpec[] = [];
  entries.forEach((entry, i) => {
    const parsed = parseColumnEntry(entry);
    if (parsed.ok) columns.push(parsed.column);
    else problems.add(childPath(path, i), parsed.message);
  });
  return columns;
}

function parseRelationship(
  value: JsonLike | undefined,
  path: string,
  nodePath: string,
  schema: string,
  problems: Problems,
): RelationshipSpec | undefined {
  if (value === undefined) {
    problems.add(
      nodePath,
      'a child node needs "relationship": {"type": "one_to_one" | "one_to_many", "variant": "object" | "scalar"}',
    );
    return undefined;
  }
  const object = problems.object(value, path, "relationship");
  if (!object) return undefined;
  problems.unknownKeys(object, path, RELATIONSHIP_KEYS, "relationship");

  const type = oneOf(object.type, childPath(path, "type"), RELATIONSHIP_TYPES, problems);
  const variant = oneOf(object.variant, childPath(path, "variant"), RELATIONSHIP_VARIANTS, problems);
  if (object.type === undefined)
    problems.add(path, 'relationship needs "type": "one_to_one" or "one_to_many"');
  if (object.variant === undefined) problems.add(path, 'relationship needs "variant": "object" or "scalar"');

  let through: TableName | undefined;
  const throughPath = childPath(path, "through_tables");
  const throughTables = problems.strings(object.through_tables, throughPath, "through_tables");
  if (throughTables && throughTables.length > 1) {
    problems.add(
      throughPath,
      `list one through table, got ${throughTables.length} (PGSync joins through one table)`,
    );
  } else if (throughTables && throughTables.length === 1 && throughTables[0] !== undefined) {
    through = splitTableName(throughTables[0], schema);
  }

  const foreignKey = parseForeignKey(object.foreign_key, childPath(path, "foreign_key"), problems);
  if (foreignKey && through) {
    problems.add(
      childPath(path, "foreign_key"),
      "foreign_key cannot be combined with through_tables: both joins are taken from the through table's " +
        "foreign keys; remove foreign_key",
    );
  }
  if (type === undefined || variant === undefined) return undefined;
  return { type, variant, through, foreignKey: through ? undefined : foreignKey };
}

function oneOf<T extends string>(
  value: JsonLike | undefined,
  path: string,
  allowed: readonly T[],
  problems: Problems,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  const expected = allowed.map((a) => `"${a}"`).join(" or ");
  const got = typeof value === "string" ? `"${value}"` : describe(value);
  const hint = typeof value === "string" ? didYouMean(value, allowed) : "";
  problems.add(path, `expected ${expected}, got ${got}${hint}`);
  return undefined;
}

function parseForeignKey(
  value: JsonLike | undefined,
  path: string,
  problems: Problems,
): ForeignKeySpec | undefined {
  const object = problems.object(value, path, 'foreign_key ({"child": [...], "parent": [...]})');
  if (!object) return undefined;
  problems.unknownKeys(object, path, FOREIGN_KEY_KEYS, "foreign_key");
  const child = problems.strings(object.child, childPath(path, "child"), "the child table's join columns");
  const parent = problems.strings(
    object.parent,
    childPath(path, "parent"),
    "the parent table's join columns",
  );
  if (object.child === undefined)
    problems.add(path, 'foreign_key needs "child": the join columns of this table');
  if (object.parent === undefined)
    problems.add(path, 'foreign_key needs "parent": the join columns of the parent');
  if (!child || !parent) return undefined;
  if (child.length === 0 || child.length !== parent.length) {
    problems.add(
      path,
      `"child" and "parent" must list the same number of columns (at least one), got ${child.length} and ${parent.length}`,
    );
    return undefined;
  }
  return { child, parent };
}

/** A scalar node renders one value, so it needs exactly one column and cannot carry objects. */
function checkScalar(node: NodeSpec, raw: JsonLikeObject, problems: Problems): void {
  if (node.relationship?.variant !== "scalar") return;
  const count = node.columns?.length;
  if (count !== 1) {
    problems.add(
      childPath(node.path, "columns"),
      count === undefined
        ? 'a scalar node renders one value, so "columns" must list exactly one column'
        : `a scalar node renders one value, so "columns" must list exactly one column, got ${count}`,
    );
  }
  if (node.children.length > 0) {
    problems.add(
      childPath(node.path, "children"),
      "a scalar node renders a bare value, so it cannot have children",
    );
  }
  for (const key of ["concat", "move"] as const) {
    if (node.transform[key].length > 0 && isObject(raw.transform)) {
      problems.add(
        childPath(childPath(node.path, "transform"), key),
        `${key} needs an object node, not a scalar`,
      );
    }
  }
}

/** Field names of a node object must be unique after renames: columns and child labels alike. */
function checkFieldNames(node: NodeSpec, problems: Problems): void {
  const seen = new Map<string, string>();
  const claim = (name: string, path: string, what: string) => {
    const output = node.transform.rename[name] ?? name;
    const previous = seen.get(output);
    if (previous !== undefined) {
      problems.add(
        path,
        `${what} gives the field "${output}", which ${previous} already gives; rename one of them`,
      );
    } else {
      seen.set(output, what);
    }
  };
  node.columns?.forEach((column, i) => {
    claim(column.name, childPath(childPath(node.path, "columns"), i), `column "${column.source}"`);
  });
  for (const child of node.children) {
    claim(
      child.label,
      childPath(child.path, child.label === child.table ? "table" : "label"),
      `child "${child.label}"`,
    );
  }
}
