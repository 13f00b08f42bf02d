import { describe, expect, it } from "vitest";
import { type ConsumerDeps, processBatch } from "../../../lib/consumer";
import type { DocumentBuilder, DocumentResult, KeyRange } from "../../../lib/document";
import type { QueueMessage } from "../../../lib/queue";
import type { DocumentWriter, SinkOperation, SinkOutcome, WriteResult } from "../../../lib/sink";
import { rangeRecord } from "../../support/range-records";

/** A step of the fake's timeline, to assert what ran while what was in flight. */
type Step = string;

interface Harness {
  deps: ConsumerDeps;
  steps: Step[];
  /** Releases the write of page `n` (0-based) with the given outcome status for all its operations. */
  release(n: number, status?: SinkOutcome["status"]): void;
  /** Fails the write of page `n` as a whole (what `DocumentWriter.write` throws when nothing can succeed). */
  fail(n: number, error: Error): void;
  /** Resolves once the fake has recorded `step`. */
  reached(step: Step): Promise<void>;
  rangeDone: string[];
  enqueued: QueueMessage[];
  queries: string[];
  /** The rows each page asked for. */
  limits: number[];
  released: boolean;
}

/**
 * A builder whose range has `pages` pages of two documents each (the last one short, so the range
 * ends), and a sink whose writes wait until the test releases them.
 */
function harness(
  pages: number,
  buildError?: { page: number; error: Error },
  /** Characters of document text per row the fake database sends. */
  textPerRow = 10,
): Harness {
  const steps: Step[] = [];
  const waiters: { step: Step; resolve: () => void }[] = [];
  const note = (step: Step) => {
    steps.push(step);
    for (const w of waiters.filter((w) => w.step === step)) w.resolve();
  };
  const writes: {
    resolve: (r: WriteResult) => void;
    reject: (e: Error) => void;
    ops: readonly SinkOperation[];
  }[] = [];
  const pendingReleases = new Map<number, (w: (typeof writes)[number]) => void>();
  const queries: string[] = [];
  const h: Harness = {
    steps,
    rangeDone: [],
    enqueued: [],
    queries,
    limits: [],
    released: false,
    release(n, status = "ok") {
      const settle = (w: (typeof writes)[number]) =>
        w.resolve({
          outcomes: w.ops.map((op) => ({ op, status, attempts: 1 }) as SinkOutcome),
          stats: {
            operations: w.ops.length,
            indexed: status === "ok" ? w.ops.length : 0,
            deleted: 0,
            stale: 0,
            rejected: 0,
            retryable: status === "retryable" ? w.ops.length : 0,
            retried: 0,
            requests: 1,
            bytes: 10,
            durationMs: 1,
          },
        });
      const w = writes[n];
      if (w) settle(w);
      else pendingReleases.set(n, settle);
    },
    fail(n, error) {
      const w = writes[n];
      if (w) w.reject(error);
      else pendingReleases.set(n, (x) => x.reject(error));
    },
    reached(step) {
      if (steps.includes(step)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ step, resolve }));
    },
    deps: undefined as unknown as ConsumerDeps,
  };
  let page = 0;
  const builder = {
    index: { spec: { index: "book" } },
    buildRange: async (_client: unknown, range: KeyRange) => {
      const n = page++;
      note(`build ${n}`);
      h.limits.push(range.limit);
      if (buildError?.page === n) throw buildError.error;
      const last = n === pages - 1;
      const first = n * range.limit + 1;
      const count = last ? range.limit - 1 : range.limit;
      const documents: DocumentResult[] = Array.from({ length: count }, (_, i) => ({
        action: "index",
        _index: "book",
        _id: String(first + i),
        key: [String(first + i)],
        _source: { n: first + i },
      }));
      return { documents, lastKey: [String(first + count - 1)], more: !last, textLength: count * textPerRow };
    },
  } as unknown as DocumentBuilder;
  const sink = {
    engine: "elasticsearch",
    write: (ops: readonly SinkOperation[]) =>
      new Promise<WriteResult>((resolve, reject) => {
        const n = writes.length;
        const w = { resolve, reject, ops };
        writes.push(w);
        note(`write ${n}`);
        pendingReleases.get(n)?.(w);
      }).finally(() => note(`written ${writes.findIndex((w) => w.ops === ops)}`)),
  } as unknown as DocumentWriter;
  h.deps = {
    connect: async () => ({
      client: {
        query: async (text: string) => {
          queries.push(text.split(" ")[0] as string);
          return { rows: [] };
        },
      } as never,
      release: () => {
        h.released = true;
      },
    }),
    builders: new Map([["book", builder]]),
    sink,
    deadLetter: async () => undefined,
    rangeDone: async (_bootstrapId, rangeId) => {
      note(`done ${rangeId}`);
      h.rangeDone.push(rangeId);
    },
    enqueue: async (messages) => {
      note("enqueue");
      h.enqueued.push(...messages);
    },
  };
  return h;
}

const options = { keysPerQuery: 1000, rangePageSize: 2, lookAhead: 1 };
const failures = (r: Awaited<ReturnType<typeof processBatch>>) =>
  r.response.batchItemFailures.map((f) => f.itemIdentifier);

describe("processBatch overlaps building and writing", () => {
  it("queries the next page while the previous page's bulk is in flight, never more than one page ahead", async () => {
    const h = harness(4);
    const result = processBatch({ Records: [rangeRecord("a")] }, h.deps, options);
    await h.reached("write 0");
    await h.reached("build 1");
    // Page 1 is built while page 0 is written; page 2 waits for page 0's write to end.
    await new Promise((r) => setImmediate(r));
    expect(h.steps).not.toContain("build 2");
    h.release(0);
    await h.reached("build 2");
    expect(h.steps.indexOf("written 0")).toBeLessThan(h.steps.indexOf("build 2"));
    h.release(1);
    h.release(2);
    h.release(3);
    const r = await result;
    expect(failures(r)).toEqual([]);
    expect(r.stats.documents).toBe(7);
    expect(r.stats.indexed).toBe(7);
    expect(r.stats.requests).toBe(4);
    // Pages are written in key order.
    expect(h.steps.filter((s) => s.startsWith("write "))).toEqual([
      "write 0",
      "write 1",
      "write 2",
      "write 3",
    ]);
  });

  it("records the range as done only after every page's bulk was accepted", async () => {
    const h = harness(3);
    const result = processBatch({ Records: [rangeRecord("a")] }, h.deps, options);
    for (const n of [0, 1]) {
      await h.reached(`write ${n}`);
      h.release(n);
    }
    // Every page is built (the range ended), the last page's write is in flight: not done yet.
    await h.reached("write 2");
    await new Promise((r) => setImmediate(r));
    expect(h.rangeDone).toEqual([]);
    h.release(2);
    await result;
    expect(h.rangeDone).toEqual(["r-a"]);
    expect(h.steps.indexOf("done r-a")).toBeGreaterThan(h.steps.indexOf("written 2"));
  });

  it("neither marks the range done nor queues its rest when a page's write must be retried", async () => {
    // 12 pages: more than one batch copies (10), so the rest would be queued as a continuation.
    const h = harness(12);
    for (let n = 0; n < 10; n++) h.release(n, n === 4 ? "retryable" : "ok");
    const r = await processBatch({ Records: [rangeRecord("a")] }, h.deps, options);
    expect(failures(r)).toEqual(["a"]);
    expect(h.rangeDone).toEqual([]);
    expect(h.enqueued).toEqual([]);
  });

  it("queues the rest of a long range once its part was written", async () => {
    const h = harness(12);
    for (let n = 0; n < 10; n++) h.release(n);
    const r = await processBatch({ Records: [rangeRecord("a")] }, h.deps, options);
    expect(failures(r)).toEqual([]);
    expect(h.enqueued).toHaveLength(1);
    expect(h.enqueued[0]).toMatchObject({ kind: "range", range: { from: ["20"], to: null } });
    expect(h.steps.indexOf("enqueue")).toBeGreaterThan(h.steps.indexOf("written 9"));
    expect(h.rangeDone).toEqual([]);
  });

  it("stops building when a write fails as a whole, rolls back, and fails the batch with that error", async () => {
    const h = harness(6);
    const refused = new Error("authentication failed");
    h.fail(0, refused);
    await expect(processBatch({ Records: [rangeRecord("a")] }, h.deps, options)).rejects.toBe(refused);
    // Page 1 may have been built while page 0 was in flight, but nothing after it.
    expect(h.steps.filter((s) => s.startsWith("build "))).toEqual(["build 0", "build 1"]);
    expect(h.steps.filter((s) => s.startsWith("write "))).toEqual(["write 0"]);
    expect(h.queries).toContain("ROLLBACK");
    expect(h.queries).not.toContain("COMMIT");
    expect(h.released).toBe(true);
    expect(h.rangeDone).toEqual([]);
  });

  it("when building fails, waits for the write in flight, then lets the whole batch come again", async () => {
    const lost = Object.assign(new Error("connection reset"), { code: "08006" });
    const h = harness(5, { page: 2, error: lost });
    const result = processBatch({ Records: [rangeRecord("a")] }, h.deps, options);
    let settled = false;
    void result.then(() => {
      settled = true;
    });
    await h.reached("write 0");
    h.release(0);
    await h.reached("write 1");
    await h.reached("build 2");
    await new Promise((r) => setImmediate(r));
    // Page 1's write is still in flight: the batch does not return before it ends.
    expect(settled).toBe(false);
    h.release(1);
    const r = await result;
    expect(failures(r)).toEqual(["a"]);
    expect(r.error).toBe(lost);
    expect(h.steps.filter((s) => s.startsWith("write "))).toEqual(["write 0", "write 1"]);
    expect(h.rangeDone).toEqual([]);
    expect(h.enqueued).toEqual([]);
  });

  it("fits the pages of wide rows to the page's text bound, starting small before the width is known", async () => {
    const h = harness(4, undefined, 1000);
    const wide = { ...options, rangePageSize: 2500, chunkText: 100_000 };
    const result = processBatch({ Records: [rangeRecord("a")] }, h.deps, wide);
    for (const n of [0, 1, 2, 3]) {
      await h.reached(`write ${n}`);
      h.release(n);
    }
    expect(failures(await result)).toEqual([]);
    // 250 rows before any width is known, then 100,000 characters / 1,000 per row.
    expect(h.limits).toEqual([250, 100, 100, 100]);
  });

  it("lets narrow rows fill whole pages of rangePageSize rows", async () => {
    const h = harness(3, undefined, 10);
    const result = processBatch({ Records: [rangeRecord("a")] }, h.deps, { ...options, rangePageSize: 2500 });
    for (const n of [0, 1, 2]) {
      await h.reached(`write ${n}`);
      h.release(n);
    }
    expect(failures(await result)).toEqual([]);
    expect(h.limits).toEqual([250, 2500, 2500]);
  });
});
