/**
 * Quoting for SQL text that slotsync generates. Every identifier from a schema or the catalog goes
 * through `quoteIdent`, every constant through `quoteLiteral`, so a table named `x"; DROP TABLE y`
 * is only ever a name.
 */

/** A client that can run a parameterised query: `pg.Client`, `pg.PoolClient` and `pg.Pool` all fit. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** Quotes an identifier the way PostgreSQL's `quote_ident` does, always (quoting is never wrong). */
export function quoteIdent(name: string): string {
  if (name.includes("\0")) throw new Error("an SQL identifier cannot contain a NUL character");
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a string constant. Uses the `E''` form when the text has a backslash so the result means
 * the same whatever `standard_conforming_strings` says.
 */
export function quoteLiteral(text: string): string {
  if (text.includes("\0")) throw new Error("an SQL string constant cannot contain a NUL character");
  const doubled = text.replaceAll("'", "''");
  return text.includes("\\") ? `E'${doubled.replaceAll("\\", "\\\\")}'` : `'${doubled}'`;
}

/** `"schema"."table"` */
export function qualifiedName(table: { schema: string; name: string }): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/** `schema.table` for messages (not for SQL). */
export function displayName(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`;
}
