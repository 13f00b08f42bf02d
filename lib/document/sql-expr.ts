import { quoteIdent, quoteLiteral, type ResolvedColumn } from "../schema";

/**
 * `json_build_object` takes at most 100 arguments (PostgreSQL's FUNC_MAX_ARGS), i.e. 50 key/value
 * pairs. Wider objects are built as several objects merged with jsonb `||`, as PGSync does.
 */
export const MAX_PAIRS_PER_OBJECT = 50;

/** A key and the SQL expression of its value. */
export type Pair = readonly [key: string, valueSql: string];

/** The SQL of a JSON object with the given pairs; keys become quoted constants. */
export function jsonObject(pairs: readonly Pair[], maxPairs = MAX_PAIRS_PER_OBJECT): string {
  const build = (chunk: readonly Pair[]) =>
    `json_build_object(${chunk.map(([key, value]) => `${quoteLiteral(key)}, ${value}`).join(", ")})`;
  if (pairs.length <= maxPairs) return build(pairs);
  const parts: string[] = [];
  for (let i = 0; i < pairs.length; i += maxPairs)
    parts.push(`${build(pairs.slice(i, i + maxPairs))}::jsonb`);
  return `(${parts.join(" || ")})`;
}

/** `alias."column"` followed by the column's JSON operators, e.g. `n0."doc" -> 'a' -> 0`. */
export function columnSql(alias: string, column: ResolvedColumn): string {
  let sql = `${alias}.${quoteIdent(column.column)}`;
  for (const step of column.path) {
    if ("path" in step) sql = `(${sql} ${step.op} ${quoteLiteral(step.literal)}::text[])`;
    else if ("index" in step) sql = `(${sql} ${step.op} ${step.index})`;
    else sql = `(${sql} ${step.op} ${quoteLiteral(step.key)})`;
  }
  return sql;
}

/** `alias."a", alias."b"` */
export function columnList(alias: string, columns: readonly string[]): string {
  return columns.map((c) => `${alias}.${quoteIdent(c)}`).join(", ");
}

/** `a."x" = b."y" AND ...` */
export function joinCondition(
  leftAlias: string,
  leftColumns: readonly string[],
  rightAlias: string,
  rightColumns: readonly string[],
): string {
  return leftColumns
    .map((c, i) => `${leftAlias}.${quoteIdent(c)} = ${rightAlias}.${quoteIdent(rightColumns[i] ?? "")}`)
    .join(" AND ");
}
