import type { ResolvedChangeFilter, ResolvedNode, RuleOperation } from "../schema";
import type { RowChange } from "./types";

const OPERATION: Record<RowChange["action"], RuleOperation> = { I: "insert", U: "update", D: "delete" };
const NUMERIC = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * False when a change filter of the node drops this change: the change is of an operation the
 * filter is limited to, and its row (the new row of an insert or update, the old row of a delete)
 * fails the comparison. A row that does not carry the column (a delete without REPLICA IDENTITY
 * FULL, an unchanged TOASTed value) cannot be judged and passes, so nothing is dropped on a guess.
 */
export function passesChangeFilters(node: ResolvedNode, change: RowChange): boolean {
  const filters = node.rules.changeFilters;
  if (filters.length === 0) return true;
  const operation = OPERATION[change.action];
  const row = change.action === "D" ? change.oldRow : change.newRow;
  if (!row) return true;
  for (const filter of filters) {
    if (!filter.operations.includes(operation) || !(filter.column in row)) continue;
    if (!matches(filter, row[filter.column])) return false;
  }
  return true;
}

/**
 * The comparison on a WAL value: numbers (wal2json's exact text) compare as numbers, booleans as
 * booleans, everything else as text by code point. Text ordering may differ from the column's
 * collation; dates and timestamps in ISO form (as wal2json writes them) order correctly.
 */
export function matches(filter: Pick<ResolvedChangeFilter, "op" | "value">, actual: unknown): boolean {
  const { op, value } = filter;
  if (value === null || actual === null || actual === undefined) {
    const equal = (value === null) === (actual === null || actual === undefined);
    if (op === "eq") return equal;
    if (op === "ne") return !equal;
    return false;
  }
  const text = typeof actual === "string" ? actual : JSON.stringify(actual);
  if (op === "contains") return text.includes(String(value));
  const order = compare(text, value);
  switch (op) {
    case "eq":
      return order === 0;
    case "ne":
      return order !== 0;
    case "gt":
      return order > 0;
    case "lt":
      return order < 0;
    case "ge":
      return order >= 0;
    case "le":
      return order <= 0;
  }
}

function compare(actual: string, value: string | number | boolean): number {
  if (typeof value === "boolean") {
    const truth = ["t", "true"].includes(actual.toLowerCase());
    return truth === value ? 0 : truth ? 1 : -1;
  }
  const expected = String(value);
  if (NUMERIC.test(actual) && NUMERIC.test(expected)) {
    if (/^-?\d+$/.test(actual) && /^-?\d+$/.test(expected)) {
      const a = BigInt(actual);
      const b = BigInt(expected);
      return a === b ? 0 : a > b ? 1 : -1;
    }
    const a = Number(actual);
    const b = Number(expected);
    return a === b ? 0 : a > b ? 1 : -1;
  }
  return actual === expected ? 0 : actual > expected ? 1 : -1;
}
