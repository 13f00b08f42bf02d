import { type Queryable, qualifiedName, quoteIdent, type ResolvedIndex } from "../schema";
import { distinctSplits, type PlannedRange, rangesFromSplits } from "./ranges";

/** How a root table is cut into ranges. */
export interface SplitOptions {
  /** Root rows per range: about one consumer batch. */
  rangeRows: number;
  /**
   * Above this many rows (PostgreSQL's estimate) split keys come from a `TABLESAMPLE` instead of
   * a walk over the whole primary key, so planning stays well inside a Lambda's time limit.
   */
  sampleAbove: number;
}

export const DEFAULT_SPLIT_OPTIONS: SplitOptions = { rangeRows: 5000, sampleAbove: 20_000_000 };

/** The ranges of one root table and how they were found. */
export interface RangePlan {
  ranges: PlannedRange[];
  /** PostgreSQL's row estimate of the root table (0 for a view or a table never analysed). */
  estimatedRows: number;
  method: "exact" | "sample";
}

/** Sampled rows per range: enough for range sizes within a few percent of each other. */
const SAMPLES_PER_RANGE = 20;

/**
 * Cuts the root table of `index` into key ranges of about `rangeRows` rows each.
 *
 * Exact: one pass over the primary key in order (an index-only scan for a table),
 * numbering rows and keeping every `rangeRows`-th key — ranges of exactly `rangeRows` rows at
 * planning time. Sampled (huge tables): `TABLESAMPLE SYSTEM` keys sorted, every k-th kept; sizes
 * are approximate, and a range larger than one batch is continued by the consumer anyway.
 * Composite keys compare as rows in primary-key order, as the consumer's range query does.
 */
export async function planRanges(
  client: Queryable,
  index: ResolvedIndex,
  options: SplitOptions = DEFAULT_SPLIT_OPTIONS,
): Promise<RangePlan> {
  const table = index.root.table;
  const estimatedRows = await estimateRows(client, qualifiedName(table));
  const sampled =
    estimatedRows > options.sampleAbove && (table.kind === "table" || table.kind === "partitioned_table");
  const splits = sampled
    ? await sampledSplits(client, index, estimatedRows, options.rangeRows)
    : await exactSplits(client, index, options.rangeRows);
  return {
    ranges: rangesFromSplits(distinctSplits(splits)),
    estimatedRows,
    method: sampled ? "sample" : "exact",
  };
}

async function estimateRows(client: Queryable, relation: string): Promise<number> {
  const { rows } = await client.query<{ estimate: number | string | null }>(
    `SELECT GREATEST(c.reltuples, 0)::float8 + COALESCE((
              SELECT sum(GREATEST(l.reltuples, 0))::float8
                FROM pg_partition_tree(c.oid) AS p JOIN pg_class AS l ON l.oid = p.relid
               WHERE p.isleaf AND p.relid <> c.oid), 0) AS estimate
       FROM pg_class AS c WHERE c.oid = $1::regclass`,
    [relation],
  );
  return Math.round(Number(rows[0]?.estimate ?? 0));
}

function keyColumns(index: ResolvedIndex, alias: string): { list: string; text: string } {
  const pk = index.root.table.primaryKey;
  return {
    list: pk.map((c) => `${alias}.${quoteIdent(c)}`).join(", "),
    text: `ARRAY[${pk.map((c) => `${alias}.${quoteIdent(c)}::text`).join(", ")}]`,
  };
}

async function exactSplits(client: Queryable, index: ResolvedIndex, rangeRows: number): Promise<string[][]> {
  const inner = keyColumns(index, "r");
  const outer = keyColumns(index, "s");
  // Only the key columns and a row number leave the window: text is made for the kept keys alone.
  const { rows } = await client.query<{ key: string[] }>(
    `SELECT ${outer.text} AS key
       FROM (SELECT ${inner.list}, row_number() OVER (ORDER BY ${inner.list}) AS "__slotsync_rn"
               FROM ${qualifiedName(index.root.table)} AS r) AS s
      WHERE s."__slotsync_rn" % $1 = 0
      ORDER BY s."__slotsync_rn"`,
    [rangeRows],
  );
  return rows.map((r) => r.key);
}

async function sampledSplits(
  client: Queryable,
  index: ResolvedIndex,
  estimatedRows: number,
  rangeRows: number,
): Promise<string[][]> {
  const ranges = Math.max(1, Math.ceil(estimatedRows / rangeRows));
  const percent = Math.min(100, ((ranges * SAMPLES_PER_RANGE) / estimatedRows) * 100);
  const cols = keyColumns(index, "r");
  const { rows } = await client.query<{ key: string[] }>(
    `SELECT ${cols.text} AS key
       FROM ${qualifiedName(index.root.table)} AS r TABLESAMPLE SYSTEM ($1)
      ORDER BY ${cols.list}`,
    [percent],
  );
  const step = rows.length / ranges;
  const splits: string[][] = [];
  for (let i = 1; i < ranges; i++) {
    const row = rows[Math.floor(i * step)];
    if (row) splits.push(row.key);
  }
  return splits;
}
