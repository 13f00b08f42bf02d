import { quoteIdent, quoteLiteral, type ResolvedFilter, type ResolvedNode } from "../schema";

const OPERATORS = { gt: ">", lt: "<", ge: ">=", le: "<=" } as const;

/**
 * The SQL condition of one row filter on the node aliased `alias`. The value is a literal cast to
 * the column's type, so PostgreSQL compares as the column does (numbers as numbers, dates as
 * dates, text with the column's collation). `ne` keeps rows whose column is NULL (they are not
 * equal to the value); every other comparison drops them.
 */
export function filterSql(alias: string, filter: ResolvedFilter): string {
  const column = `${alias}.${quoteIdent(filter.column)}`;
  const { op, value } = filter;
  if (op === "contains") return `strpos(${column}::text, ${quoteLiteral(String(value))}) > 0`;
  if (value === null) return `${column} IS ${op === "eq" ? "" : "NOT "}NULL`;
  const literal = `CAST(${quoteLiteral(String(value))} AS ${filter.type})`;
  if (op === "eq") return `${column} = ${literal}`;
  if (op === "ne") return `${column} IS DISTINCT FROM ${literal}`;
  return `${column} ${OPERATORS[op]} ${literal}`;
}

/** ` AND <filter> AND ...` for the node's row filters, or "" when it has none. */
export function nodeFiltersSql(alias: string, node: ResolvedNode): string {
  return node.rules.filters.map((f) => ` AND ${filterSql(alias, f)}`).join("");
}
