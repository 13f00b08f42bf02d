import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { type ConsumerDeps, processBatch } from "../../../lib/consumer";
import type { DocumentBuilder, DocumentResult, KeyRange } from "../../../lib/document";
import type { DocumentWriter, SinkOperation, SinkOutcome, WriteResult } from "../../../lib/sink";
import { rangeRecord } from "../../support/range-records";

// A full, synchronous collection on demand: the only way to see what a batch still holds.
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

const PAGE_ROWS = 100;

describe("processBatch memory", () => {
  it("holds no page's documents once the page is written, however many pages the batch copies", async () => {
    const pages = 6;
    // A weak reference to each page's sources: what a page weighs is its documents' bodies.
    const sources: WeakRef<object>[][] = [];
    /** Per write, the pages whose sources were still reachable when it was made. */
    const alive: number[][] = [];
    let built = 0;
    const builder = {
      index: { spec: { index: "book" } },
      buildRange: async (_client: unknown, range: KeyRange) => {
        const n = built++;
        const first = n * PAGE_ROWS + 1;
        const last = n === pages - 1;
        const documents: DocumentResult[] = Array.from({ length: range.limit }, (_, i) => ({
          action: "index",
          _index: "book",
          _id: String(first + i),
          key: [String(first + i)],
          _source: { n: first + i, body: "x".repeat(200) },
        }));
        sources.push(documents.map((d) => new WeakRef((d as { _source: object })._source)));
        return { documents, lastKey: [String(first + range.limit - 1)], more: !last, textLength: 0 };
      },
    } as unknown as DocumentBuilder;
    const sink = {
      engine: "elasticsearch",
      write: async (ops: readonly SinkOperation[]): Promise<WriteResult> => {
        // A later job than the one that made the references, so none is kept alive for its sake.
        await new Promise((r) => setImmediate(r));
        collect();
        alive.push(
          sources.flatMap((refs, page) => (refs.some((r) => r.deref() !== undefined) ? [page] : [])),
        );
        return {
          outcomes: ops.map((op) => ({ op, status: "ok", attempts: 1 }) as SinkOutcome),
          stats: {
            ...{ operations: ops.length, indexed: ops.length, deleted: 0, stale: 0, rejected: 0 },
            ...{ retryable: 0, retried: 0, requests: 1, bytes: 1, durationMs: 1 },
          },
        };
      },
    } as unknown as DocumentWriter;
    const deps: ConsumerDeps = {
      connect: async () => ({
        client: { query: async () => ({ rows: [] }) } as never,
        release: () => undefined,
      }),
      builders: new Map([["book", builder]]),
      sink,
      deadLetter: async () => undefined,
      rangeDone: async () => undefined,
    };

    const result = await processBatch({ Records: [rangeRecord("a")] }, deps, {
      keysPerQuery: 1000,
      rangePageSize: PAGE_ROWS,
      lookAhead: 1,
    });

    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.stats.indexed).toBe(pages * PAGE_ROWS);
    expect(alive).toHaveLength(pages);
    // While page n is written, at most page n and the one built ahead of it are held.
    alive.forEach((held, n) => {
      expect(held.every((page) => page >= n)).toBe(true);
      expect(held.length).toBeLessThanOrEqual(2);
    });
  });
});
