import pg from "pg";
import { pickWeighted, seededRandom } from "./random";
import { FIRST_YEAR, INITIAL_YEARS } from "./schema";

/**
 * The load generator: `connections` concurrent sessions running a mix of transactions that covers
 * every way a document can change, plus the awkward cases (hot rows committing out of order,
 * transactions larger than the poller's chunk, transactions held open for seconds, rollbacks and
 * serialization failures).
 */
const MIX = {
  insertBook: 10,
  updateTitle: 14,
  updateUnusedColumn: 8,
  deleteBook: 4,
  moveReview: 10,
  updateReview: 8,
  deleteReview: 4,
  renamePublisher: 3,
  renameReviewer: 3,
  renameAuthor: 3,
  linkAuthor: 6,
  unlinkAuthor: 5,
  changeBookKey: 3,
  insertEdition: 4,
  updateEdition: 3,
  moveEdition: 2,
  deleteEdition: 1,
  largeTransaction: 0.3,
  heldOpen: 2,
  rollback: 4,
  serializable: 4,
} as const;
type Kind = keyof typeof MIX;

export interface LoadStats {
  committed: number;
  rolledBack: number;
  serializationFailures: number;
  deadlocks: number;
  changes: number;
  byKind: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seed: number;
  /** Ids of the initial books (1..books): most work targets them. */
  books: number;
  /** Rows of the large transaction: more than the poller resolves in one chunk. */
  largeRows: number;
  signal: AbortSignal;
}

/** Runs until `signal` aborts; resolves with what was done. */
export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const stats: LoadStats = {
    committed: 0,
    rolledBack: 0,
    serializationFailures: 0,
    deadlocks: 0,
    changes: 0,
    byKind: {},
  };
  const pool = new pg.Pool({ connectionString: options.url, max: options.connections });
  pool.on("error", () => undefined);
  const workers = Array.from({ length: options.connections }, (_, i) =>
    worker(pool, options, stats, seededRandom(options.seed * 1000 + i)),
  );
  await Promise.all(workers);
  await pool.end();
  return stats;
}

async function worker(
  pool: pg.Pool,
  options: LoadOptions,
  stats: LoadStats,
  random: () => number,
): Promise<void> {
  const int = (n: number) => 1 + Math.floor(random() * n);
  // A tenth of the work goes to ten hot books, so many transactions update the same rows.
  const book = () => (random() < 0.1 ? int(10) : int(options.books));
  while (!options.signal.aborted) {
    const kind = pickWeighted<Kind>(random, MIX);
    const client = await pool.connect();
    let changes = 0;
    const run = async (sql: string, params: unknown[] = []) => {
      const r = await client.query(sql, params);
      changes += r.rowCount ?? 0;
      return r;
    };
    try {
      await client.query(kind === "serializable" ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN");
      switch (kind) {
        case "insertBook": {
          const { rows } = await run(
            "INSERT INTO book (id, title, stock, publisher_id) VALUES (nextval('book_ids'), $1, 0, $2) RETURNING id",
            [`new ${int(1e6)}`, int(50)],
          );
          const id = rows[0]?.id;
          for (let i = 0; i < int(3); i++) {
            await run("INSERT INTO review VALUES (nextval('review_ids'), $1, $2, $3, $4)", [
              id,
              int(200),
              int(5),
              `r ${int(1e6)}`,
            ]);
          }
          await run("INSERT INTO book_author VALUES ($1, $2) ON CONFLICT DO NOTHING", [id, int(300)]);
          break;
        }
        case "updateTitle":
          await run("UPDATE book SET title = $2 WHERE id = $1", [book(), `t ${int(1e6)}`]);
          break;
        case "updateUnusedColumn":
          await run("UPDATE book SET stock = stock + 1 WHERE id = $1", [book()]);
          break;
        case "deleteBook":
          await run("DELETE FROM book WHERE id = (SELECT id FROM book WHERE id >= $1 ORDER BY id LIMIT 1)", [
            int(options.books),
          ]);
          break;
        case "moveReview":
          await run(
            "UPDATE review SET book_id = (SELECT id FROM book WHERE id >= $2 ORDER BY id LIMIT 1) WHERE id = $1",
            [int(options.books * 2), book()],
          );
          break;
        case "updateReview":
          await run("UPDATE review SET stars = $2, body = $3 WHERE id = $1", [
            int(options.books * 2),
            int(5),
            `b ${int(1e6)}`,
          ]);
          break;
        case "deleteReview":
          await run("DELETE FROM review WHERE id = $1", [int(options.books * 2)]);
          break;
        case "renamePublisher":
          await run("UPDATE publisher SET name = $2 WHERE id = $1", [int(50), `p ${int(1e6)}`]);
          break;
        case "renameReviewer":
          await run("UPDATE reviewer SET name = $2 WHERE id = $1", [int(200), `rv ${int(1e6)}`]);
          break;
        case "renameAuthor":
          await run("UPDATE author SET name = $2 WHERE id = $1", [int(300), `a ${int(1e6)}`]);
          break;
        case "linkAuthor":
          await run(
            "INSERT INTO book_author SELECT id, $2 FROM book WHERE id >= $1 ORDER BY id LIMIT 1 ON CONFLICT DO NOTHING",
            [book(), int(300)],
          );
          break;
        case "unlinkAuthor":
          await run(
            "DELETE FROM book_author WHERE (book_id, author_id) = (SELECT book_id, author_id FROM book_author WHERE book_id >= $1 ORDER BY book_id LIMIT 1)",
            [book()],
          );
          break;
        case "changeBookKey":
          // A primary-key change: the old document goes, a new one appears; children follow by cascade.
          await run(
            "UPDATE book SET id = nextval('book_ids') WHERE id = (SELECT id FROM book WHERE id >= $1 ORDER BY id LIMIT 1)",
            [int(options.books)],
          );
          break;
        case "insertEdition":
          // Mostly into the first years; some into years the run creates, when they exist yet.
          await run("INSERT INTO edition VALUES (nextval('edition_ids'), $1, $2, $3)", [
            FIRST_YEAR - 1 + int(INITIAL_YEARS + 4),
            book(),
            `format ${int(5)}`,
          ]);
          break;
        case "updateEdition":
          await run(
            "UPDATE edition SET format = $2 WHERE id = (SELECT id FROM edition WHERE id >= $1 ORDER BY id LIMIT 1)",
            [int(options.books), `f ${int(1e6)}`],
          );
          break;
        case "moveEdition":
          await run(
            "UPDATE edition SET book_id = (SELECT id FROM book WHERE id >= $2 ORDER BY id LIMIT 1) WHERE id = (SELECT id FROM edition WHERE id >= $1 ORDER BY id LIMIT 1)",
            [int(options.books), book()],
          );
          break;
        case "deleteEdition":
          await run(
            "DELETE FROM edition WHERE id = (SELECT id FROM edition WHERE id >= $1 ORDER BY id LIMIT 1)",
            [int(options.books)],
          );
          break;
        case "largeTransaction": {
          const start = int(Math.max(1, options.books - options.largeRows));
          await run("UPDATE book SET title = title || '+' WHERE id BETWEEN $1 AND $2", [
            start,
            start + options.largeRows,
          ]);
          break;
        }
        case "heldOpen":
          await run("UPDATE book SET title = $2 WHERE id = $1", [book(), `held ${int(1e6)}`]);
          await client.query("SELECT pg_sleep($1)", [0.5 + random() * 3]);
          await run("UPDATE review SET stars = $2 WHERE id = $1", [int(options.books * 2), int(5)]);
          break;
        case "rollback":
          await run("UPDATE book SET title = 'never seen' WHERE id = $1", [book()]);
          await run("DELETE FROM review WHERE id = $1", [int(options.books * 2)]);
          await client.query("ROLLBACK");
          stats.rolledBack++;
          count(stats, kind);
          continue;
        case "serializable": {
          // Read-then-write on hot rows: concurrent ones fail with serialization errors.
          const { rows } = await client.query("SELECT sum(stars)::int AS s FROM review WHERE book_id <= 10");
          await run("UPDATE book SET title = $2 WHERE id = $1", [int(10), `sum ${rows[0]?.s ?? 0}`]);
          break;
        }
      }
      await client.query("COMMIT");
      stats.committed++;
      stats.changes += changes;
      count(stats, kind);
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (code === "40001") stats.serializationFailures++;
      else if (code === "40P01") stats.deadlocks++;
      // 23514: no partition for the edition's year (not created yet, detached or dropped).
      else if (!["23503", "23505", "23514"].includes(code ?? "")) throw error;
      else stats.rolledBack++;
    } finally {
      client.release();
    }
  }
}

function count(stats: LoadStats, kind: string): void {
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
}
