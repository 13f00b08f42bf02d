import { describe, expect, it } from "vitest";
import { AdaptiveSizer } from "../../../../lib/sink/search/adaptive";
import { SearchEngineSink } from "../../../../lib/sink/search/search-sink";
import { TransportFailure } from "../../../../lib/sink/search/transport";
import type { SinkOperation } from "../../../../lib/sink/types";
import { bulkResponse, errorResponse, FakeRuntime, FakeTransport, itemError, itemOk, tuning } from "./fakes";

const settings = { startSize: 100, maxSize: 300, targetLatencyMs: 1000 };
const seen = (
  operations: number,
  latencyMs: number,
  extra: Partial<Parameters<AdaptiveSizer["observe"]>[1]> = {},
) => ({
  operations,
  latencyMs,
  full: true,
  throttled: false,
  timedOut: false,
  ...extra,
});

describe("AdaptiveSizer", () => {
  it("starts from the configured size and grows by a tenth of it on fast, full answers, up to the cap", () => {
    const sizer = new AdaptiveSizer(settings);
    expect(sizer.sizeFor("a")).toBe(100);
    sizer.observe("a", seen(100, 100));
    expect(sizer.sizeFor("a")).toBe(110);
    for (let i = 0; i < 50; i++) sizer.observe("a", seen(sizer.sizeFor("a"), 10));
    expect(sizer.sizeFor("a")).toBe(300);
  });

  it("does not grow on a request that was not full, nor on one between half and the whole target", () => {
    const sizer = new AdaptiveSizer(settings);
    sizer.observe("a", seen(10, 10, { full: false }));
    sizer.observe("a", seen(100, 800));
    expect(sizer.sizeFor("a")).toBe(100);
  });

  it("shrinks a slow answer to what meets the target, at least by half", () => {
    const sizer = new AdaptiveSizer(settings);
    sizer.observe("a", seen(100, 5000));
    expect(sizer.sizeFor("a")).toBe(20);
    sizer.observe("b", seen(100, 1200));
    expect(sizer.sizeFor("b")).toBe(50);
  });

  it("halves on pushback and on timeouts, never below one; indices are independent", () => {
    const sizer = new AdaptiveSizer(settings);
    sizer.observe("a", seen(100, 10, { throttled: true }));
    expect(sizer.sizeFor("a")).toBe(50);
    sizer.observe("a", seen(50, 10, { timedOut: true }));
    expect(sizer.sizeFor("a")).toBe(25);
    for (let i = 0; i < 10; i++) sizer.observe("a", seen(1, 10, { throttled: true }));
    expect(sizer.sizeFor("a")).toBe(1);
    expect(sizer.sizeFor("b")).toBe(100);
    expect(sizer.sizes()).toEqual({ a: 1, b: 100 });
  });

  it("keeps the size when the caller's deadline cut a request, but learns it is at least that slow", () => {
    const sizer = new AdaptiveSizer(settings);
    sizer.observe("a", seen(100, 900)); // 9 ms each
    sizer.observe("a", seen(100, 2000, { timedOut: true, cutByDeadline: true }));
    expect(sizer.sizeFor("a")).toBe(100);
    expect(sizer.predictMs("a", 10)).toBe(200);
  });

  it("predicts with the slower of the smoothed and the latest time per operation", () => {
    const sizer = new AdaptiveSizer(settings);
    sizer.observe("a", seen(100, 100)); // 1 ms
    sizer.observe("a", seen(110, 1100)); // 10 ms: smoothed 5.5, latest 10
    expect(sizer.predictMs("a", 10)).toBe(100);
  });

  it("fits requests into the time left once it knows the time per operation, and derives timeouts", () => {
    const sizer = new AdaptiveSizer(settings);
    expect(sizer.fit("a", 100, 10)).toBe(100); // nothing known yet: the first answer tells
    expect(sizer.timeoutMs("a", 100, 30_000, 10_000)).toBe(10_000); // the setting, until answers come
    sizer.observe("a", seen(100, 5000)); // 50 ms per operation
    expect(sizer.predictMs("a", 20)).toBe(1000);
    expect(sizer.fit("a", 100, 2500)).toBe(40); // 80 % of 2.5 s at 50 ms each
    expect(sizer.fit("a", 100, 40)).toBe(0);
    expect(sizer.timeoutMs("a", 20, 30_000, 10_000)).toBe(10_000); // 3 x 1 s, floored at the setting
    expect(sizer.timeoutMs("a", 100, 30_000, 10_000)).toBe(15_000); // 3 x 5 s
    expect(sizer.timeoutMs("a", 100, 12_000, 10_000)).toBe(12_000); // never past the time left
  });
});

/** Operations for `index`, numbered from `from`. */
function ops(n: number, index = "books"): SinkOperation[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: "index" as const,
    index,
    id: `id${i}`,
    version: BigInt(i + 1),
    source: { n: i },
    ref: `msg-${i}`,
  }));
}

/** A sink whose engine takes `msPerDoc` per operation of a `_bulk` request (on the fake clock). */
function slowSink(msPerDoc: number, overrides = {}) {
  const runtime = new FakeRuntime();
  const transport = new FakeTransport((_r, bulk) => {
    runtime.time += bulk.length * msPerDoc;
    return bulkResponse(bulk);
  });
  const sink = new SearchEngineSink(
    transport,
    tuning({ chunkSize: 500, maxChunkSize: 5000, targetLatencyMs: 5000, ...overrides }),
    runtime,
  );
  return { sink, transport, runtime };
}

describe("write with adaptive sizing", () => {
  it("shrinks requests on a slow engine, keeps the size for the next write, and says which size it uses", async () => {
    const { sink, transport } = slowSink(50); // 500 operations take 25 s
    const first = await sink.write(ops(1000), { deadline: new FakeRuntime().time + 600_000 });
    const sizes = transport.bulkRequests.map((r) => r.length);
    expect(sizes[0]).toBe(500);
    expect(sizes[1]).toBe(100); // 500 in 25 s shrinks to what meets 5 s
    expect(first.stats).toMatchObject({ indexed: 1000, chunkSize: 100 });
    expect(first.stats.requestMs).toBe(1000 * 50);
    const before = transport.requests.length;
    await sink.write(ops(200), { deadline: new FakeRuntime().time + 600_000 });
    expect(transport.bulkRequests.slice(before).map((r) => r.length)).toEqual([100, 100]);
  });

  it("grows requests on a fast engine up to the configured maximum", async () => {
    const { sink, transport } = slowSink(0, { maxChunkSize: 600 });
    await sink.write(ops(5000));
    const sizes = transport.bulkRequests.map((r) => r.length);
    expect(sizes.slice(0, 3)).toEqual([500, 550, 600]);
    expect(Math.max(...sizes)).toBe(600);
  });

  it("does not start a request that cannot finish before the deadline: those operations come back unsent", async () => {
    const { sink, transport, runtime } = slowSink(50);
    const start = runtime.time;
    // 500 x 50 ms = 25 s; then 100 per 5 s; 40 s in all leaves room for 500 + 2 x 100 (+ a cut one).
    const { outcomes, stats } = await sink.write(ops(1200), { deadline: start + 40_000 });
    expect(runtime.time).toBeLessThanOrEqual(start + 40_000);
    const written = outcomes.filter((o) => o.status === "ok").length;
    const unsent = outcomes.filter((o) => o.status === "retryable");
    expect(written + unsent.length).toBe(1200);
    expect(written).toBe(transport.bulkRequests.flat().length);
    expect(unsent.length).toBeGreaterThan(0);
    expect(unsent.every((o) => o.errorType === "deadline" && o.attempts === 0)).toBe(true);
    expect(stats.retryable).toBe(unsent.length);
  });

  it("halves on a 429 and counts the requests pushed back", async () => {
    const runtime = new FakeRuntime();
    const transport = new FakeTransport((_r, bulk, call) =>
      call === 1
        ? errorResponse(429, "es_rejected_execution_exception")
        : bulkResponse(bulk, (a) =>
            call === 2 && a.id === "id0" ? itemError(a, 429, "es_rejected_execution_exception") : itemOk(a),
          ),
    );
    const sink = new SearchEngineSink(transport, tuning({ chunkSize: 8 }), runtime);
    const { outcomes, stats } = await sink.write(ops(8));
    expect(outcomes.every((o) => o.status === "ok")).toBe(true);
    expect(transport.bulkRequests.map((r) => r.length).slice(0, 3)).toEqual([8, 4, 2]);
    expect(stats.throttledRequests).toBe(2);
  });

  it("after a timeout, waits longer for the smaller request that follows", async () => {
    const runtime = new FakeRuntime();
    const transport = new FakeTransport((r, bulk) => {
      const took = bulk.length * 50; // 500 operations: 25 s
      if (took > r.timeoutMs) {
        runtime.time += r.timeoutMs;
        return new TransportFailure("timeout", "no answer");
      }
      runtime.time += took;
      return bulkResponse(bulk);
    });
    const sink = new SearchEngineSink(
      transport,
      tuning({ chunkSize: 500, requestTimeoutMs: 10_000 }),
      runtime,
    );
    const { outcomes } = await sink.write(ops(500), { deadline: runtime.time + 300_000 });
    expect(outcomes.every((o) => o.status === "ok")).toBe(true);
    const timeouts = transport.requests.map((r) => r.timeoutMs);
    expect(timeouts[0]).toBe(10_000);
    // 500 timed out after 10 s (at least 20 ms each): 250 are given 3 x 5 s, enough for 12.5 s.
    expect(transport.bulkRequests[1]?.length).toBe(250);
    expect(timeouts[1]).toBe(15_000);
  });
});
