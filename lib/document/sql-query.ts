import { qualifiedName, quoteIdent, type ResolvedIndex } from "../schema";
import { DocumentError } from "./errors";
import { columnList } from "./sql-expr";
import { filterSql, nodeFiltersSql } from "./sql-filter";
import { nodeAlias, nodeObjectSql } from "./sql-node";

/** A parameterised statement. */
export interface SqlQuery {
  text: string;
  values: unknown[];
}

/** Rows of {@link buildKeysQuery}: one per requested key, in request order. */
export interface KeysRow {
  /** The key as PostgreSQL writes it, one text value per key column. */
  key: string[];
  /** The document as JSON text, or null when no root row has the key. */
  doc: string | null;
}

/** Rows of {@link buildRangeQuery}. */
export interface RangeRow {
  key: string[];
  doc: string;
}

/** `ARRAY[a."x"::text, ...]`: the key as text, for `_id` and for paging. */
function keyTextArray(alias: string, columns: readonly string[]): string {
  return `ARRAY[${columns.map((c) => `${alias}.${quoteIdent(c)}::text`).join(", ")}]`;
}

/**
 * One statement that builds the documents of the given root keys (each key one text value per
 * primary key column). The keys arrive as one text array per key column, unnested side by side,
 * so the statement text does not depend on how many keys there are and composite keys work.
 * Every requested key yields a row; `doc` is null when the root row does not exist.
 */
export function buildKeysQuery(index: ResolvedIndex, keys: readonly (readonly string[])[]): SqlQuery {
  const root = index.root;
  const alias = nodeAlias(root);
  const pk = root.table.primaryKey;
  const types = root.table.primaryKeyTypes;
  const cols = pk.map((_, i) => `k${i}`);
  const params = pk.map((_, i) => `$${i + 1}::text[]`).join(", ");
  const match = pk
    .map((column, i) => `${alias}.${quoteIdent(column)} = k.${cols[i]}::${types[i]}`)
    .join(" AND ");
  const requested = `ARRAY[${cols.map((c, i) => `k.${c}::${types[i]}::text`).join(", ")}]`;
  const text = [
    `SELECT COALESCE(d.key, ${requested}) AS key, d.doc AS doc`,
    `FROM unnest(${params}) WITH ORDINALITY AS k(${cols.join(", ")}, ord)`,
    "LEFT JOIN LATERAL (",
    `  SELECT ${keyTextArray(alias, pk)} AS key, ${nodeObjectSql(root)}::text AS doc`,
    `  FROM ${qualifiedName(root.table)} AS ${alias}`,
    // A root row that fails a row filter has no document: the key's doc is null, and the
    // consumer deletes it, exactly as for a deleted row.
    `  WHERE ${match}${nodeFiltersSql(alias, root)}`,
    "  LIMIT 1",
    ") AS d ON true",
    "ORDER BY k.ord",
  ].join("\n");
  const values = pk.map((_, i) => keys.map((key) => key[i] ?? null));
  return { text, values };
}

/** Bounds of a key range: rows with `after < key <= upTo`, either bound optional. */
export interface KeyRange {
  /** Exclusive lower bound (the last key of the previous page). */
  after?: readonly string[];
  /** Inclusive upper bound. */
  upTo?: readonly string[];
  /** Most rows to return. */
  limit: number;
}

/**
 * One statement that builds the documents of the next `limit` root rows of a key range, in key
 * order. Composite keys compare as rows, `(a, b) > ($1, $2)`, which a primary key index serves.
 */
export function buildRangeQuery(index: ResolvedIndex, range: KeyRange, keysOnly = false): SqlQuery {
  const root = index.root;
  const alias = nodeAlias(root);
  const pk = root.table.primaryKey;
  const types = root.table.primaryKeyTypes;
  if (!Number.isInteger(range.limit) || range.limit < 1) {
    throw new DocumentError(`the page size must be a positive integer, got ${range.limit}`);
  }
  const values: unknown[] = [];
  const bound = (key: readonly string[], op: ">" | "<=") => {
    if (key.length !== pk.length) {
      throw new DocumentError(
        `a range bound of ${root.table.name} needs ${pk.length} value(s), got ${key.length}`,
      );
    }
    const placeholders = key.map((value, i) => {
      values.push(value);
      return `$${values.length}::${types[i]}`;
    });
    const left = pk.length === 1 ? columnList(alias, pk) : `(${columnList(alias, pk)})`;
    const right = pk.length === 1 ? placeholders.join("") : `(${placeholders.join(", ")})`;
    return `${left} ${op} ${right}`;
  };
  const where: string[] = [];
  if (range.after) where.push(bound(range.after, ">"));
  if (range.upTo) where.push(bound(range.upTo, "<="));
  for (const filter of root.rules.filters) where.push(filterSql(alias, filter));
  values.push(range.limit);
  const text = [
    keysOnly
      ? `SELECT ${keyTextArray(alias, pk)} AS key`
      : `SELECT ${keyTextArray(alias, pk)} AS key, ${nodeObjectSql(root)}::text AS doc`,
    `FROM ${qualifiedName(root.table)} AS ${alias}`,
    where.length > 0 ? `WHERE ${where.join(" AND ")}` : "",
    `ORDER BY ${columnList(alias, pk)}`,
    `LIMIT $${values.length}`,
  ]
    .filter((line) => line !== "")
    .join("\n");
  return { text, values };
}
