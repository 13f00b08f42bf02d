import type { Queryable, ResolvedSchema, TableName } from "../schema";
import { findAffected, sameTable, unchanged, usedColumns } from "./anchors";
import { ascendSql } from "./ascend";
import { passesChangeFilters } from "./change-filter";
import { type LeafPartition, readLeafPartitions } from "./partitions";
import type { Anchor, RootKeyText, RowChange, TruncateEffect } from "./types";

/** The root keys a set of changes affects, per index (position in the schema), deduplicated. */
export type AffectedKeys = Map<number, Map<string, RootKeyText>>;

export interface ResolveStats {
  changes: number;
  /** Updates that touched no column any document uses (seen only with a full old row). */
  skipped: number;
  /** (change, use) pairs a change filter (a rule limited to some operations) dropped. */
  filtered: number;
  queries: number;
}

interface UseEntry {
  index: number;
  role: string;
  nodeId: number;
  used: Set<string> | "all" | undefined;
}

/** Most anchor rows sent in one statement: large enough for few round trips, small enough for the planner. */
const MAX_VALUES_PER_QUERY = 10_000;
/** Root keys read per FETCH of one lookup's cursor. */
const KEYS_PER_FETCH = 10_000;

/** How {@link ChangeResolver.resolve} hands keys on while it is still finding them. */
export interface ResolveOptions {
  /**
   * Called whenever `into` holds at least `flushAt` keys, in the middle of a lookup: the caller
   * hands the keys on and empties `into` (in place). One lookup row referenced by millions of
   * roots is so streamed in pages instead of held whole.
   */
  flush?: () => Promise<void>;
  flushAt?: number;
}

/**
 * Turns row changes into the root keys of the documents they affect, for every index of the
 * schema. Whatever the row cannot say by itself (which document embeds a child) is looked up in
 * the database's current state, in one statement per (index, node, column set) group.
 */
export class ChangeResolver {
  private readonly uses = new Map<string, UseEntry[]>();
  /** Every use of the schema with the table it names. */
  private readonly entries: { table: TableName; entry: UseEntry }[] = [];
  /** Leaf partitions per partitioned table (by table key), as last read from the catalog. */
  private readonly leaves = new Map<string, TableName[]>();
  /** Partitioned tables the schema uses: their leaves are read again by {@link refreshPartitions}. */
  private readonly partitioned: TableName[] = [];

  constructor(readonly schema: ResolvedSchema) {
    schema.indices.forEach((index, i) => {
      for (const use of index.tableUses) {
        const entry = { index: i, role: use.role, nodeId: use.nodeId, used: usedColumns(index, use) };
        this.entries.push({ table: use.table, entry });
        const partitions = partitionsOf(index, use);
        const key = tableKey(use.table);
        const kind = schema.tables.find((t) => sameTable(t, use.table))?.kind;
        if ((kind === "partitioned_table" || partitions.length > 0) && !this.leaves.has(key)) {
          this.leaves.set(key, partitions);
          this.partitioned.push(use.table);
        }
      }
    });
    this.index();
  }

  /**
   * Reads the leaf partitions of every partitioned table the schema uses again (one catalog
   * query) and watches the ones that appeared. WAL rows of a partitioned table name the leaf they
   * landed in, so a partition created or attached after the schema resolved is read from the
   * first cycle that follows. Returns the leaves now.
   */
  async refreshPartitions(db: Queryable): Promise<LeafPartition[]> {
    if (this.partitioned.length === 0) return [];
    const leaves = await readLeafPartitions(db, this.partitioned);
    for (const parent of this.partitioned) this.leaves.set(tableKey(parent), []);
    for (const { parent, leaf } of leaves) this.leaves.get(tableKey(parent))?.push(leaf);
    this.index();
    return leaves;
  }

  /** Partitioned tables the schema uses. */
  partitionedTables(): readonly TableName[] {
    return this.partitioned;
  }

  private index(): void {
    this.uses.clear();
    for (const { table, entry } of this.entries) {
      // WAL rows of a partitioned table name the leaf partition they landed in.
      for (const t of [table, ...(this.leaves.get(tableKey(table)) ?? [])]) {
        const key = tableKey(t);
        const list = this.uses.get(key) ?? [];
        list.push(entry);
        this.uses.set(key, list);
      }
    }
  }

  /** Every table whose changes matter, for wal2json's `add-tables`. */
  tables(): TableName[] {
    return [...this.uses.keys()].map((k) => {
      const [schema, name] = JSON.parse(k) as [string, string];
      return { schema, name };
    });
  }

  /** True when changes to the table can affect a document. */
  watches(table: TableName): boolean {
    return this.uses.has(tableKey(table));
  }

  /** What a TRUNCATE of `table` does to each index: clear it (the root) or rebuild it (any other use). */
  truncate(table: TableName): TruncateEffect[] {
    const effects = new Map<number, TruncateEffect["effect"]>();
    for (const use of this.uses.get(tableKey(table)) ?? []) {
      const index = this.schema.indices[use.index];
      const isRoot = use.role === "node" && index !== undefined && use.nodeId === index.root.id;
      const effect = isRoot ? "clear" : "rebuild";
      // A table that is both root and child of the same index: rebuilding covers both.
      if (effects.get(use.index) !== "rebuild") effects.set(use.index, effect);
    }
    return [...effects].map(([index, effect]) => ({ index, effect }));
  }

  /** Resolves a batch of changes to root keys, adding them to `into`. */
  async resolve(
    db: Queryable,
    changes: readonly RowChange[],
    into: AffectedKeys = new Map(),
    options: ResolveOptions = {},
  ): Promise<ResolveStats> {
    const stats: ResolveStats = { changes: changes.length, skipped: 0, filtered: 0, queries: 0 };
    const groups = new Map<string, Anchor[]>();
    for (const change of changes) {
      const uses = this.uses.get(tableKey(change.table));
      if (!uses) continue;
      if (uses.every((u) => unchanged(change, u.used))) {
        stats.skipped++;
        continue;
      }
      for (const use of uses) {
        const index = this.schema.indices[use.index];
        if (!index) continue;
        const node = use.role === "node" ? index.nodes[use.nodeId] : undefined;
        if (node && !passesChangeFilters(node, change)) {
          stats.filtered++;
          continue;
        }
        const found = findAffected(index, use.index, use, change);
        for (const key of found.keys) addKey(into, use.index, key);
        for (const anchor of found.anchors) {
          const group = JSON.stringify([anchor.index, anchor.nodeId, anchor.on, anchor.columns]);
          const list = groups.get(group) ?? [];
          list.push(anchor);
          groups.set(group, list);
        }
      }
    }
    for (const anchors of groups.values()) {
      const first = anchors[0];
      if (!first) continue;
      const index = this.schema.indices[first.index];
      if (!index) continue;
      const sql = ascendSql(index, first.nodeId, first.on, first.columns);
      const distinct = new Map(anchors.map((a) => [JSON.stringify(a.values), a.values]));
      const all = [...distinct.values()];
      for (let start = 0; start < all.length; start += MAX_VALUES_PER_QUERY) {
        const slice = all.slice(start, start + MAX_VALUES_PER_QUERY);
        const params = first.columns.map((_, i) => slice.map((values) => values[i] ?? null));
        stats.queries++;
        const width = index.root.table.primaryKey.length;
        const page = Math.max(1, Math.min(KEYS_PER_FETCH, options.flushAt ?? KEYS_PER_FETCH));
        for await (const rows of pages(db, sql, params, page)) {
          for (const row of rows) {
            addKey(
              into,
              first.index,
              Array.from({ length: width }, (_, i) => String(row[`k${i}`])),
            );
          }
          if (options.flush && options.flushAt !== undefined && count(into) >= options.flushAt) {
            await options.flush();
          }
        }
      }
    }
    return stats;
  }
}

function partitionsOf(
  index: ResolvedSchema["indices"][number],
  use: { role: string; nodeId: number },
): TableName[] {
  const node = index.nodes[use.nodeId];
  if (!node) return [];
  if (use.role === "through") return node.join?.kind === "through" ? node.join.through.partitions : [];
  if (use.role === "node") return node.table.partitions;
  return [];
}

let cursors = 0;

/**
 * The rows of a query in pages of `size`, through a cursor, so the client never holds more than a
 * page. `WITH HOLD` lets it work inside the poller's peek transaction and outside any transaction
 * alike; it is closed when done or abandoned.
 */
async function* pages(
  db: Queryable,
  sql: string,
  params: unknown[],
  size: number,
): AsyncGenerator<Record<string, string>[]> {
  const name = `slotsync_ascend_${process.pid}_${++cursors}`;
  await db.query(`DECLARE ${name} NO SCROLL CURSOR WITH HOLD FOR ${sql}`, params);
  try {
    for (;;) {
      const { rows } = await db.query<Record<string, string>>(`FETCH ${size} FROM ${name}`);
      if (rows.length > 0) yield rows;
      if (rows.length < size) return;
    }
  } finally {
    await db.query(`CLOSE ${name}`).catch(() => undefined);
  }
}

function count(into: AffectedKeys): number {
  let n = 0;
  for (const keys of into.values()) n += keys.size;
  return n;
}

function addKey(into: AffectedKeys, index: number, key: RootKeyText): void {
  let keys = into.get(index);
  if (!keys) {
    keys = new Map();
    into.set(index, keys);
  }
  keys.set(JSON.stringify(key), key);
}

function tableKey(table: TableName): string {
  return JSON.stringify([table.schema, table.name]);
}

/** Re-exported so callers can match tables the same way. */
export { sameTable };
