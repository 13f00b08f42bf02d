import type pg from "pg";
import { leafKey, type RowChange } from "../resolve";
import { qualifiedName, type TableName } from "../schema";
import type { CycleDeps, CycleResult } from "./cycle";
import type { Handoff } from "./ports";

/**
 * A partition that joined a partitioned table (created or attached) and is small enough to be read
 * here: its rows are handed on as keys instead of a reconcile of the whole index.
 */
export interface LeafScan {
  parent: TableName;
  leaf: TableName;
}

/** Rows of a new partition read in one cycle at most; a larger one is reconciled instead. */
export const MAX_LEAF_SCAN_ROWS = 100_000;
/** Rows per FETCH of a partition scan. */
const SCAN_FETCH = 5000;

/** What a changed leaf set asks of the cycle. */
export interface LeafWatch {
  /** Partitions whose rows the cycle reads and hands on as keys, before its peek. */
  scans: LeafScan[];
  /** The slot's confirmed position: the version of the scanned keys and of the repairs. */
  version: bigint;
  /** Records the leaf set as handed on (after everything was published). */
  commit(): Promise<void>;
}

/**
 * Refreshes the resolver's leaf partitions and compares them with the last set handed on. A parent
 * that only gained partitions (created, attached) and whose new partitions hold at most
 * {@link MAX_LEAF_SCAN_ROWS} rows each: those partitions are scanned and their rows resolved like
 * inserts (only their documents are built again). Any other change (a partition detached or
 * dropped, a large one attached) adds reconcile work to `special`, as a TRUNCATE of the parent
 * would. Both are versioned at the slot's confirmed position: every transaction above it is decoded
 * (again) this cycle or later and built from a snapshot that sees the new partitions, so it wins;
 * everything at or below it is visible to the scan's and the repair's snapshots.
 *
 * A scan is complete: the new partition is among the decoded tables from this cycle's peek on,
 * which starts at the confirmed position, so a row of it is either in the scan or in the WAL this
 * cycle (or a later one) decodes. A removed partition has no such reading (a row deleted from it
 * after the detach is no longer decoded), so it is reconciled.
 */
export async function watchLeaves(
  deps: Pick<CycleDeps, "db" | "resolver" | "reader" | "leafSets">,
  special: Handoff[],
  indexNames: readonly string[],
  result: CycleResult,
): Promise<LeafWatch | undefined> {
  const { resolver, db, reader } = deps;
  if (resolver.partitionedTables().length === 0) return undefined;
  const now = await resolver.refreshPartitions(db);
  const leaves = now.map(leafKey).sort();
  const before = (await deps.leafSets?.read()) ?? null;
  const commit = async () => {
    await deps.leafSets?.write(leaves);
  };
  if (before === null) return { scans: [], version: 0n, commit };
  const was = new Set(before);
  const is = new Set(leaves);
  const parentKey = (t: TableName) => JSON.stringify([t.schema, t.name]);
  const fromKey = (key: string): { parent: TableName; leaf: TableName } => {
    const [ps, pn, ls, ln] = JSON.parse(key) as [string, string, string, string];
    return { parent: { schema: ps, name: pn }, leaf: { schema: ls, name: ln } };
  };
  const added = leaves.filter((k) => !was.has(k)).map(fromKey);
  const removed = before.filter((k) => !is.has(k)).map(fromKey);
  if (added.length === 0 && removed.length === 0) return undefined;

  const version = (await reader.info()).confirmedFlushLsn ?? 0n;
  const reconcile = new Map<string, TableName>();
  for (const r of removed) reconcile.set(parentKey(r.parent), r.parent);
  const scans: LeafScan[] = [];
  for (const a of added) {
    if (reconcile.has(parentKey(a.parent))) continue;
    if (await largerThan(db, a.leaf, MAX_LEAF_SCAN_ROWS)) reconcile.set(parentKey(a.parent), a.parent);
    else scans.push(a);
  }
  const effects = new Map<string, Handoff>();
  for (const parent of reconcile.values()) {
    for (const effect of resolver.truncate(parent)) {
      const index = indexNames[effect.index];
      if (index === undefined) continue;
      // One repair per index: rebuilding covers reconciling.
      if (effects.get(index)?.kind === "rebuild") continue;
      effects.set(
        index,
        effect.effect === "clear" ? { kind: "clear", index, version } : { kind: "rebuild", index, version },
      );
    }
  }
  special.push(...effects.values());
  const scanned = scans.filter((s) => !reconcile.has(parentKey(s.parent)));
  result.partitionChanges += new Set([...added, ...removed].map((x) => parentKey(x.parent))).size;
  return { scans: scanned, version, commit };
}

/** True when `table` holds more than `limit` rows (reads at most `limit + 1`). */
async function largerThan(db: pg.ClientBase, table: TableName, limit: number): Promise<boolean> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM (SELECT 1 FROM ${qualifiedName(table)} LIMIT ${limit + 1}) s`,
  );
  return Number(rows[0]?.n ?? 0) > limit;
}

let cursors = 0;

/**
 * The rows of a new partition as inserts into its parent, page by page (a cursor, so the client
 * holds one page at most). Values come as JSON, as wal2json gives them.
 */
export async function* scanLeaf(db: pg.ClientBase, scan: LeafScan): AsyncGenerator<RowChange[]> {
  const name = `slotsync_leaf_${process.pid}_${++cursors}`;
  await db.query(
    `DECLARE ${name} NO SCROLL CURSOR WITH HOLD FOR SELECT to_jsonb(t)::text AS r FROM ${qualifiedName(scan.leaf)} t`,
  );
  try {
    for (;;) {
      const { rows } = await db.query<{ r: string }>(`FETCH ${SCAN_FETCH} FROM ${name}`);
      if (rows.length > 0) {
        yield rows.map((row) => ({
          table: scan.parent,
          action: "I" as const,
          newRow: JSON.parse(row.r) as Record<string, unknown>,
          oldRow: undefined,
        }));
      }
      if (rows.length < SCAN_FETCH) return;
    }
  } finally {
    await db.query(`CLOSE ${name}`).catch(() => undefined);
  }
}
