import { SlotsyncError } from "../errors";
import type { Queryable } from "../schema";

/**
 * Widens a 32-bit xid (what wal2json writes) to the 64-bit xid8 PostgreSQL compares snapshots with,
 * taking the epoch from a recent snapshot's xmax: the xid is the one within 2^31 of xmax.
 */
export function widenXid(xid: number, xmax: bigint): bigint {
  const low = xmax & 0xffffffffn;
  const x = BigInt(xid >>> 0);
  const behind = (low - x) & 0xffffffffn;
  return behind <= 0x80000000n ? xmax - behind : xmax + ((x - low) & 0xffffffffn);
}

/** A decoded transaction is not yet visible to new snapshots after the allowed wait. */
export class VisibilityError extends SlotsyncError {}

/**
 * Waits until every transaction in `xids` is visible to a new snapshot.
 *
 * Logical decoding can return a transaction as soon as its commit record is flushed, a moment
 * before the server marks it visible. Keys handed on before that moment could be rebuilt by a
 * consumer whose snapshot does not yet see the change. Once visible to one new snapshot, a
 * transaction is visible to every later one, so checking here covers every consumer.
 */
export async function waitUntilVisible(
  db: Queryable,
  xids: readonly number[],
  options: { timeoutMs: number; sleep?: (ms: number) => Promise<void> },
): Promise<number> {
  if (xids.length === 0) return 0;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const deadline = Date.now() + options.timeoutMs;
  let waits = 0;
  let remaining = [...new Set(xids)];
  for (;;) {
    const { rows: snap } = await db.query<{ xmax: string }>(
      "SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax",
    );
    const xmax = BigInt(snap[0]?.xmax ?? "0");
    const wide = remaining.map((x) => widenXid(x, xmax).toString());
    const { rows } = await db.query<{ x: string }>(
      "SELECT x::text AS x FROM unnest($1::text[]::xid8[]) AS x WHERE NOT pg_visible_in_snapshot(x, pg_current_snapshot())",
      [wide],
    );
    if (rows.length === 0) return waits;
    const pending = new Set(rows.map((r) => r.x));
    remaining = remaining.filter((x) => pending.has(widenXid(x, xmax).toString()));
    if (Date.now() > deadline) {
      throw new VisibilityError(
        `${remaining.length} decoded transaction(s) not visible after ${options.timeoutMs} ms`,
        {
          retryable: true,
          where: `xids ${remaining.slice(0, 5).join(", ")}`,
          fix: "nothing to do if it passes on the next cycle; otherwise check for a stuck backend in pg_stat_activity",
        },
      );
    }
    waits++;
    await sleep(Math.min(50 * waits, 500));
  }
}
