/**
 * The steady-state load: row changes at a target rate, mixed over the root and its children
 * (book prices, review stars, author birth dates), in small transactions through a pg pool; and
 * markers, a few changes a second that write a unique value into a book's title or a review's body,
 * whose commit time is compared with the moment the value becomes searchable.
 */
import type { Client as Elastic } from "@elastic/elasticsearch";
import pg from "pg";

export interface LoadOptions {
  url: string;
  /** Books in the database (ids 1..rows). */
  rows: number;
  /** Authors in the database (ids 1..authors). */
  authors: number;
  /** Row changes per second, markers included. */
  rate: number;
  seconds: number;
  /** Rows per transaction. */
  rowsPerTransaction: number;
  /** Markers per second. */
  markersPerSecond: number;
  /** A prefix that makes this run's marker values unique. */
  tag: string;
}

export interface Marker {
  book: number;
  kind: "book" | "review";
  review?: number;
  value: string;
  committedAt: number;
  seenAt?: number;
  /** When the engine acknowledged the write of a document holding the value (bench/acks.ts). */
  ackedAt?: number;
}

export interface LoadResult {
  changes: number;
  transactions: number;
  seconds: number;
  achievedRate: number;
  byKind: Record<string, number>;
  errors: number;
}

/**
 * Shares of the transactions by table: mostly root and direct children, a few single-row author
 * changes that fan out to every book of the author (about 30 documents each).
 */
export const LOAD_MIX = { book: 0.6, review: 0.38, author: 0.02 } as const;

const STATEMENTS = {
  book: "UPDATE book SET price = price + 0.01 WHERE id = ANY($1::int[])",
  review: "UPDATE review SET stars = stars % 5 + 1 WHERE id = ANY($1::int[])",
  author: "UPDATE author SET born = born + 1 WHERE id = ANY($1::int[])",
} as const;

/** Reviews are seeded as id g -> book floor(2g/3) + 1 (bench/seed.ts). */
const reviewBook = (review: number) => Math.floor((2 * review) / 3) + 1;

/** Runs the load for `seconds`; returns what was committed. Committed markers are appended to `markers`. */
export async function runLoad(o: LoadOptions, markers: Marker[]): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: o.url, max: 8, options: "-c jit=off" });
  const maxReview = Math.floor(((o.rows - 1) * 3) / 2);
  const byKind: Record<string, number> = { book: 0, review: 0, author: 0, marker: 0 };
  let changes = 0;
  let transactions = 0;
  let errors = 0;
  let inFlight = 0;
  let markerSeq = 0;
  const pick = (): keyof typeof STATEMENTS => {
    const r = Math.random();
    return r < LOAD_MIX.book ? "book" : r < LOAD_MIX.book + LOAD_MIX.review ? "review" : "author";
  };
  const ids = (kind: keyof typeof STATEMENTS, n: number) =>
    Array.from({ length: n }, () => {
      const max = kind === "book" ? o.rows : kind === "review" ? maxReview : o.authors;
      return 1 + Math.floor(Math.random() * max);
    });
  const send = (text: string, values: unknown[], rows: number, kind: string, after?: () => void) => {
    inFlight++;
    pool.query(text, values).then(
      () => {
        inFlight--;
        changes += rows;
        transactions++;
        byKind[kind] = (byKind[kind] ?? 0) + rows;
        after?.();
      },
      () => {
        inFlight--;
        errors++;
      },
    );
  };

  const started = performance.now();
  const end = started + o.seconds * 1000;
  let issued = 0;
  let markersIssued = 0;
  while (performance.now() < end) {
    const elapsed = (performance.now() - started) / 1000;
    // Markers first, on their own clock; a marker is one row change.
    while (markersIssued < elapsed * o.markersPerSecond) {
      markersIssued++;
      issued++;
      const seq = markerSeq++;
      // Distinct books for successive markers, so one marker never hides another.
      const book = ((seq * 7919) % o.rows) + 1;
      const value = `${o.tag}-${seq}`;
      if (seq % 2 === 0) {
        const marker: Marker = { book, kind: "book", value, committedAt: 0 };
        send("UPDATE book SET title = $2 WHERE id = $1", [book, value], 1, "marker", () => {
          marker.committedAt = Date.now();
          markers.push(marker);
        });
      } else {
        // The first review of the book: review g with floor(2g/3) + 1 = book.
        const review = Math.ceil((3 * (book - 1)) / 2);
        if (review < 1 || reviewBook(review) !== book) continue;
        const marker: Marker = { book, kind: "review", review, value, committedAt: 0 };
        send("UPDATE review SET body = $2 WHERE id = $1", [review, value], 1, "marker", () => {
          marker.committedAt = Date.now();
          markers.push(marker);
        });
      }
    }
    const due = Math.floor(elapsed * o.rate) - issued;
    // Back-pressure: a generator that cannot keep its rate shows as a lower achieved rate.
    for (let n = 0; n + o.rowsPerTransaction <= due && inFlight < 32; ) {
      const kind = pick();
      const batch = kind === "author" ? 1 : o.rowsPerTransaction;
      n += batch;
      send(STATEMENTS[kind], [ids(kind, batch)], batch, kind);
      issued += batch;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  await pool.end();
  return { changes, transactions, seconds, achievedRate: changes / seconds, byKind, errors };
}

/**
 * Watches markers until each is searchable: a multi-get without realtime reads only refreshed
 * segments, as a search does. Sets `seenAt` on each marker it finds; `markers` may grow while it runs.
 */
export class MarkerTracker {
  private next = 0;
  private readonly waiting = new Map<number, Marker>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly es: Elastic,
    private readonly index: string,
    private readonly markers: Marker[],
  ) {}

  start(): void {
    this.running = this.loop();
  }

  /** Committed markers not yet searchable. */
  get pending(): number {
    return this.waiting.size + (this.markers.length - this.next);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.poll().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async poll(): Promise<void> {
    while (this.next < this.markers.length) {
      const m = this.markers[this.next++];
      if (m) this.waiting.set(m.book, m);
    }
    if (this.waiting.size === 0) return;
    const now = Date.now();
    const res = await this.es.mget<{ title?: string; reviews?: { id: number; body: string }[] }>({
      index: this.index,
      ids: [...this.waiting.keys()].map(String),
      realtime: false,
      _source_includes: ["title", "reviews.id", "reviews.body"],
    });
    for (const doc of res.docs) {
      if (!("found" in doc) || !doc.found || !doc._source) continue;
      const m = this.waiting.get(Number(doc._id));
      if (!m) continue;
      const src = doc._source;
      const hit =
        m.kind === "book" ? src.title === m.value : (src.reviews ?? []).some((r) => r.body === m.value);
      if (hit) {
        m.seenAt = now;
        this.waiting.delete(m.book);
      }
    }
  }
}

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}
