import { didYouMean } from "../errors";
import { parseColumnEntry } from "./columns";
import type { ResolvedColumn, ResolvedFilter, ResolvedIndex, ResolvedNode } from "./model";
import { childPath, type Problems } from "./problems";
import { displayName } from "./sql";
import type { IndexSpec, RuleSpec } from "./types";

/** Base types whose values are not text in a document, so regex and mask rules cannot apply. */
const NOT_TEXT = new Set([
  "smallint",
  "integer",
  "bigint",
  "numeric",
  "real",
  "double precision",
  "boolean",
  "json",
  "jsonb",
]);
const UNORDERED = new Set(["json", "jsonb", "boolean", "xml", "point", "tsvector"]);

/** `$root`, `$root.<label>`, ...: how rules name the nodes of a tree. */
export function nodeRulePaths(index: Pick<ResolvedIndex, "root">): Map<string, ResolvedNode> {
  const paths = new Map<string, ResolvedNode>();
  const walk = (node: ResolvedNode, path: string) => {
    paths.set(path, node);
    for (const child of node.children) walk(child, `${path}.${child.label}`);
  };
  walk(index.root, "$root");
  return paths;
}

/**
 * Checks each rule of an index definition against the resolved tree and the node's table, and
 * attaches it to its node. Returns false after recording problems.
 */
export function attachRules(spec: IndexSpec, root: ResolvedNode, problems: Problems): boolean {
  if (spec.rules.length === 0) return true;
  const paths = nodeRulePaths({ root });
  let ok = true;
  const fail = (path: string, message: string) => {
    problems.add(path, message);
    ok = false;
  };
  for (const rule of spec.rules) {
    const node = paths.get(rule.node);
    if (!node) {
      fail(
        childPath(rule.path, "node"),
        `no node is at "${rule.node}" (nodes: ${[...paths.keys()].join(", ")})${didYouMean(rule.node, [...paths.keys()])}`,
      );
      continue;
    }
    if (rule.type === "filter") {
      const column = node.table.columns.find((c) => c.name === rule.column);
      if (!column) {
        const names = node.table.columns.map((c) => c.name);
        fail(
          childPath(rule.path, "column"),
          `column "${rule.column}" does not exist in ${displayName(node.table)}${didYouMean(rule.column, names)}`,
        );
        continue;
      }
      if (
        ["gt", "lt", "ge", "le"].includes(rule.op) &&
        (UNORDERED.has(column.baseType) || column.baseType.endsWith("[]"))
      ) {
        fail(
          childPath(rule.path, "op"),
          `"${rule.op}" orders values, and ${rule.column} is ${column.type}, which has no such order; use "eq", "ne" or "contains"`,
        );
        continue;
      }
      const filter = {
        path: rule.path,
        column: column.name,
        type: column.type,
        baseType: column.baseType,
        op: rule.op,
        value: rule.value,
      };
      if (rule.operations) node.rules.changeFilters.push({ ...filter, operations: rule.operations });
      else node.rules.filters.push(filter);
      continue;
    }
    const column = fieldOfRule(node, rule);
    if (!column) {
      const fields = node.columns.map((c) => c.field);
      fail(
        childPath(rule.path, "column"),
        `"${rule.column}" is not a field of node ${rule.node} (${displayName(node.table)}), whose fields are ${fields.join(", ")}${didYouMean(rule.column, fields)}`,
      );
      continue;
    }
    const lastStep = column.path.at(-1);
    const textPath = lastStep !== undefined && (lastStep.op === "->>" || lastStep.op === "#>>");
    const baseType = node.table.columns.find((c) => c.name === column.column)?.baseType ?? column.type;
    if (!textPath && NOT_TEXT.has(baseType)) {
      fail(
        childPath(rule.path, "column"),
        `${rule.type} rules change text, and ${rule.column} is ${column.type}; apply it to a text column (or a JSON value read with ->>)`,
      );
      continue;
    }
    node.rules.values.push(
      rule.type === "regex"
        ? {
            path: rule.path,
            field: column.field,
            type: "regex",
            pattern: rule.pattern,
            flags: rule.flags,
            replace: rule.replace,
          }
        : { path: rule.path, field: column.field, type: "mask", maskChar: rule.maskChar },
    );
  }
  for (const node of paths.values()) if (!checkFilterValues(node, problems)) ok = false;
  return ok;
}

/**
 * A value rule names a field as the schema's `columns` lists it (`doc->>nick`), by PGSync's name
 * for it (`doc_nick`), or as the document has it after rename.
 */
function fieldOfRule(node: ResolvedNode, rule: RuleSpec): ResolvedColumn | undefined {
  const parsed = parseColumnEntry(rule.column);
  const written = parsed.ok ? parsed.column.name : rule.column;
  return node.columns.find((c) => c.name === written) ?? node.columns.find((c) => c.field === rule.column);
}

const INTEGER_TYPES = new Set(["smallint", "integer", "bigint"]);
const NUMBER_TYPES = new Set(["numeric", "real", "double precision"]);
const TIME_TYPES = /^(date|time|timestamp)/;

/** Why `value` cannot be compared with a column of base type `baseType`, or undefined. */
function valueProblem(filter: ResolvedFilter): string | undefined {
  const { value, baseType } = filter;
  if (value === null || filter.op === "contains") return undefined;
  const text = String(value);
  if (INTEGER_TYPES.has(baseType) && !/^-?\d+$/.test(text)) return "an integer";
  if (NUMBER_TYPES.has(baseType) && (text.trim() === "" || !Number.isFinite(Number(text)))) return "a number";
  if (baseType === "boolean" && typeof value !== "boolean") return "true or false";
  if (
    TIME_TYPES.test(baseType) &&
    !baseType.startsWith("time ") &&
    baseType !== "time" &&
    Number.isNaN(Date.parse(text))
  )
    return 'an ISO 8601 date or timestamp such as "2024-05-01" or "2024-05-01T10:00:00Z"';
  return undefined;
}

/**
 * Checks that each filter's value fits its column's type, so a filter written as `"rating" gt
 * "high"` is reported by `validate` and at start-up rather than failing every document query.
 */
export function checkFilterValues(node: ResolvedNode, problems: Problems): boolean {
  let ok = true;
  for (const filter of [...node.rules.filters, ...node.rules.changeFilters]) {
    const expected = valueProblem(filter);
    if (!expected) continue;
    ok = false;
    problems.add(
      childPath(filter.path, "value"),
      `${filter.column} is ${filter.type}: compare it with ${expected}, not ${JSON.stringify(filter.value)}`,
    );
  }
  return ok;
}
