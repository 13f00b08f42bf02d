import type pg from "pg";
import { pickWeighted } from "./random";

/**
 * What production databases do besides row changes, run between the load's transactions: the
 * partition lifecycle of `edition` (create, detach, attach, drop, truncate), truncates of a
 * partition and of a through table, and DDL on synced tables (columns added and dropped on the
 * all-columns `edition` node and on `book`, indexes created and dropped). None of them writes row
 * changes the sync could follow one by one; each must still end with the index equal to the database.
 */
const OPERATIONS = {
  createPartition: 3,
  detachPartition: 2,
  attachPartition: 2,
  dropPartition: 1,
  truncatePartition: 1,
  truncateLinks: 0.5,
  addEditionColumn: 1,
  dropEditionColumn: 1,
  addBookColumn: 1,
  dropBookColumn: 1,
  createIndex: 1,
  dropIndex: 1,
} as const;
export type OperationKind = keyof typeof OPERATIONS;

export interface OperationStats {
  /** Operations that took effect, by kind. */
  done: Record<string, number>;
  /** Operations that could not (nothing to detach, a lock not granted in time …), by kind. */
  skipped: Record<string, number>;
}

/** Runs one random operation in its own transaction; never throws for what the database refuses. */
export async function runOperation(
  client: pg.ClientBase,
  random: () => number,
  stats: OperationStats,
): Promise<OperationKind> {
  const kind = pickWeighted<OperationKind>(random, OPERATIONS);
  let done = false;
  try {
    await client.query("BEGIN");
    // DDL waits for the load's locks; a short wait keeps it from stalling the load behind it.
    await client.query("SET LOCAL lock_timeout = '3s'");
    done = await operate(client, kind);
    await client.query("COMMIT");
  } catch {
    await client.query("ROLLBACK").catch(() => undefined);
    done = false;
  }
  const bucket = done ? stats.done : stats.skipped;
  bucket[kind] = (bucket[kind] ?? 0) + 1;
  return kind;
}

/** A random table name among those `sql` returns (`relname`), or undefined. */
async function pick(client: pg.ClientBase, sql: string): Promise<string | undefined> {
  const { rows } = await client.query<{ relname: string }>(`${sql} ORDER BY random() LIMIT 1`);
  return rows[0]?.relname;
}

const ATTACHED =
  "SELECT c.relname::text AS relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'edition'::regclass";
const DETACHED =
  "SELECT relname::text AS relname FROM pg_class WHERE relname ~ '^edition_[0-9]+$' AND relkind = 'r' AND NOT relispartition";
const ANY =
  "SELECT relname::text AS relname FROM pg_class WHERE relname ~ '^edition_[0-9]+$' AND relkind = 'r'";

const yearOf = (name: string) => Number(name.slice("edition_".length));

async function operate(client: pg.ClientBase, kind: OperationKind): Promise<boolean> {
  switch (kind) {
    case "createPartition": {
      // Created with rows in the same transaction, before any poller cycle has seen the partition.
      const { rows } = await client.query<{ y: string }>("SELECT nextval('edition_years')::text AS y");
      const y = Number(rows[0]?.y);
      await client.query(
        `CREATE TABLE edition_${y} PARTITION OF edition FOR VALUES FROM (${y}) TO (${y + 1});
         ALTER TABLE edition_${y} REPLICA IDENTITY FULL;
         INSERT INTO edition (id, year, book_id, format)
           SELECT nextval('edition_ids'), ${y}, id, 'new ' || id FROM book ORDER BY random() LIMIT 20`,
      );
      return true;
    }
    case "detachPartition": {
      const name = await pick(client, ATTACHED);
      if (!name) return false;
      await client.query(`ALTER TABLE edition DETACH PARTITION ${name}`);
      return true;
    }
    case "attachPartition": {
      const name = await pick(client, DETACHED);
      if (!name) return false;
      const y = yearOf(name);
      await client.query(`ALTER TABLE edition ATTACH PARTITION ${name} FOR VALUES FROM (${y}) TO (${y + 1})`);
      return true;
    }
    case "dropPartition": {
      const name = await pick(client, ANY);
      if (!name) return false;
      await client.query(`DROP TABLE ${name}`);
      return true;
    }
    case "truncatePartition": {
      const name = await pick(client, ATTACHED);
      if (!name) return false;
      await client.query(`TRUNCATE ${name}`);
      return true;
    }
    case "truncateLinks":
      await client.query("TRUNCATE book_author");
      return true;
    case "addEditionColumn":
      // A default on existing rows changes every edition without a row change.
      await client.query("ALTER TABLE edition ADD COLUMN IF NOT EXISTS note text DEFAULT 'n'");
      return true;
    case "dropEditionColumn":
      await client.query("ALTER TABLE edition DROP COLUMN IF EXISTS note");
      return true;
    case "addBookColumn":
      await client.query("ALTER TABLE book ADD COLUMN IF NOT EXISTS extra int DEFAULT 1");
      return true;
    case "dropBookColumn":
      await client.query("ALTER TABLE book DROP COLUMN IF EXISTS extra");
      return true;
    case "createIndex":
      await client.query("CREATE INDEX IF NOT EXISTS chaos_review_stars ON review (stars)");
      return true;
    case "dropIndex":
      await client.query("DROP INDEX IF EXISTS chaos_review_stars");
      return true;
  }
}
