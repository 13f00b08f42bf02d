import type { ColumnSpec, JsonPathStep } from "./types";

/** JSON operators PGSync recognises inside a column entry, longest first so `->>` is not read as `->`. */
const OPERATOR = /(#>>|#>|->>|->)/;

/** True when a column entry uses JSON operators (`doc->a`, `doc#>{a,b}`). */
export function hasJsonPath(entry: string): boolean {
  return OPERATOR.test(entry);
}

export type ColumnParse = { ok: true; column: ColumnSpec } | { ok: false; message: string };

/**
 * Parses one entry of a node's `columns` list.
 *
 * The field name follows PGSync: the column and each operand joined by `_`, with the braces of a
 * `#>` path removed, so `doc->a->0->b` becomes `doc_a_0_b` and `doc#>{a,b}` becomes `doc_a,b`.
 * An operand made only of digits is an array index (PGSync converts it to an integer), anything
 * else is an object key.
 */
export function parseColumnEntry(entry: string): ColumnParse {
  if (!hasJsonPath(entry)) {
    return { ok: true, column: { source: entry, column: entry, path: [], name: entry } };
  }
  const tokens = entry.split(OPERATOR);
  const column = tokens[0] ?? "";
  if (column === "") {
    return { ok: false, message: `"${entry}" must start with a column name before the JSON operator` };
  }
  const path: JsonPathStep[] = [];
  const names = [column];
  for (let i = 1; i < tokens.length; i += 2) {
    const op = tokens[i] as "->" | "->>" | "#>" | "#>>";
    const operand = tokens[i + 1] ?? "";
    if (operand === "") {
      return { ok: false, message: `"${entry}" has an operator "${op}" with nothing after it` };
    }
    if ((op === "->>" || op === "#>>") && i + 2 < tokens.length) {
      // ->> and #>> return text, so nothing can follow them (PostgreSQL would reject it too).
      return { ok: false, message: `"${entry}": "${op}" returns text, so it must be the last operator` };
    }
    if (op === "#>" || op === "#>>") {
      if (!operand.startsWith("{") || !operand.endsWith("}")) {
        return {
          ok: false,
          message: `"${entry}": the operand of "${op}" must be a path in braces, e.g. ${op}{a,b}`,
        };
      }
      const inner = operand.slice(1, -1);
      const elements = inner === "" ? [] : inner.split(",").map((part) => part.trim());
      path.push({ op, path: elements, literal: operand });
    } else if (/^[0-9]+$/.test(operand)) {
      path.push({ op, index: Number.parseInt(operand, 10) });
    } else {
      path.push({ op, key: operand });
    }
    names.push(operand.replaceAll("{", "").replaceAll("}", ""));
  }
  return { ok: true, column: { source: entry, column, path, name: names.join("_") } };
}
