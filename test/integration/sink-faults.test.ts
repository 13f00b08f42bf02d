import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createSink,
  type SearchSink,
  type SinkConfig,
  type SinkOperation,
  type SinkTuning,
} from "../../lib/sink";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy";
import { getServices } from "../support/services";

// The sink's retries against real engines behind the fault proxy: whole-request 429/503, per-item
// 429s inside a real bulk response, timeouts, 413 splits, and giving up as `retryable`.

const SUFFIX = randomBytes(4).toString("hex");

const ENGINES: {
  name: "elasticsearch" | "opensearch";
  url: () => string;
  config: (node: string) => SinkConfig;
}[] = [
  {
    name: "elasticsearch",
    url: () => getServices().elasticsearch.url,
    config: (node) => {
      const { username, password } = getServices().elasticsearch;
      return { engine: "elasticsearch", node, auth: { type: "basic", username, password } };
    },
  },
  {
    name: "opensearch",
    url: () => getServices().opensearch.url,
    config: (node) => ({ engine: "opensearch", node }),
  },
];

/** Fast backoff: the tests exercise the retry paths, not the waiting. */
const FAST: SinkTuning = { maxRetries: 4, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 5_000 };
const BULK_ONLY = /\/_bulk/;

describe.each(ENGINES)("$name sink behind the fault proxy", ({ name, url, config }) => {
  const index = `slotsync-sinkf-${name.slice(0, 2)}-${SUFFIX}`;
  let proxy: FaultProxy;
  let direct: SearchSink;
  let sink: SearchSink;
  let version = 0n;

  const ops = (n: number, prefix: string): SinkOperation[] => {
    version++;
    return Array.from({ length: n }, (_, i) => ({
      kind: "index" as const,
      index,
      id: `${prefix}-${i}`,
      version,
      source: { title: `${prefix} ${i}` },
    }));
  };
  const stored = async (batch: SinkOperation[]) =>
    (
      await direct.getDocuments(
        index,
        batch.map((op) => op.id),
      )
    ).filter((d) => d?.version === version).length;
  const through = (tuning: SinkTuning) => createSink({ ...config(proxy.url), ...tuning });

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: url(), seed: 42, engine: name });
    direct = createSink(config(url()));
    sink = through(FAST);
    await direct.createIndex(index, { settings: { number_of_shards: 1, number_of_replicas: 0 } });
  });

  beforeEach(() => {
    proxy.setFaults({});
  });

  afterAll(async () => {
    await sink?.close();
    await direct?.deleteIndex(index).catch(() => undefined);
    await direct?.close();
    await proxy?.close();
  });

  it("recovers from whole-request 429 and 503 within the retries", async () => {
    proxy.setFaults({ failNext: 2, statuses: [429, 503], onlyPaths: BULK_ONLY });
    // Fixed sizing: the request count below assumes the batch is never cut smaller.
    const fixed = through({ ...FAST, adaptive: false });
    try {
      const batch = ops(10, "whole");
      const { outcomes, stats } = await fixed.write(batch);
      expect(outcomes.every((o) => o.status === "ok" && o.attempts === 3)).toBe(true);
      expect(stats).toMatchObject({ indexed: 10, requests: 3, retried: 20 });
      expect(proxy.stats().injected).toBe(2);
      expect(await stored(batch)).toBe(10);
    } finally {
      await fixed.close();
    }
  });

  it("with adaptive sizing, halves its requests after the engine answers 429, and says so", async () => {
    proxy.setFaults({ failNext: 1, statuses: [429], onlyPaths: BULK_ONLY });
    const adaptive = through({ ...FAST, chunkSize: 8 });
    try {
      const batch = ops(8, "halved");
      const { outcomes, stats } = await adaptive.write(batch);
      expect(outcomes.every((o) => o.status === "ok")).toBe(true);
      // 8 refused, then 4 + 4; the first fast, full answer of 4 grew the size by a tenth of 8.
      expect(stats).toMatchObject({ requests: 3, throttledRequests: 1, chunkSize: 5 });
      expect(await stored(batch)).toBe(8);
    } finally {
      await adaptive.close();
    }
  });

  it("resends only the bulk items that came back 429/503", async () => {
    proxy.setFaults({ bulkItemStatuses: [429, 503], bulkItemRate: 0.3, onlyPaths: BULK_ONLY });
    const patient = through({ ...FAST, maxRetries: 12 });
    try {
      const batch = ops(40, "items");
      const { outcomes, stats } = await patient.write(batch);
      expect(outcomes.map((o) => o.status)).toEqual(batch.map(() => "ok"));
      const failedItems = proxy.stats().bulkItemsFailed;
      expect(failedItems).toBeGreaterThan(0);
      // Each withheld item was sent again, and nothing else was.
      expect(stats.retried).toBe(failedItems);
      expect(outcomes.some((o) => o.attempts > 1)).toBe(true);
      expect(await stored(batch)).toBe(40);
    } finally {
      await patient.close();
    }
  });

  it("ends in retryable outcomes, not an exception, when the retries run out", async () => {
    proxy.setFaults({ rate: 1, statuses: [503], onlyPaths: BULK_ONLY });
    const { outcomes, stats } = await sink.write(ops(3, "exhausted"));
    expect(outcomes.map((o) => [o.status, o.httpStatus, o.attempts])).toEqual([
      ["retryable", 503, 5],
      ["retryable", 503, 5],
      ["retryable", 503, 5],
    ]);
    expect(outcomes[0]?.reason).toMatch(/unavailable|primary shard/);
    expect(stats).toMatchObject({ retryable: 3, requests: 5 });
  });

  it("retries a request that hangs past the timeout", async () => {
    proxy.setFaults({ hangNext: 1, onlyPaths: BULK_ONLY });
    const impatient = through({ ...FAST, requestTimeoutMs: 300 });
    try {
      const batch = ops(2, "hang");
      const { outcomes } = await impatient.write(batch);
      expect(outcomes.map((o) => [o.status, o.attempts])).toEqual([
        ["ok", 2],
        ["ok", 2],
      ]);
      expect(proxy.stats().hung).toBe(1);
      expect(await stored(batch)).toBe(2);
    } finally {
      await impatient.close();
    }
  });

  it("splits a batch refused with 413, and rejects a lone document refused with 413", async () => {
    proxy.setFaults({ failNext: 1, statuses: [413], onlyPaths: BULK_ONLY });
    const batch = ops(4, "split");
    const split = await sink.write(batch);
    expect(split.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(split.stats.requests).toBe(3); // refused whole, then two halves
    expect(await stored(batch)).toBe(4);

    proxy.setFaults({ rate: 1, statuses: [413], onlyPaths: BULK_ONLY });
    const alone = await sink.write(ops(1, "huge"));
    expect(alone.outcomes[0]).toMatchObject({ status: "rejected", httpStatus: 413 });
    expect(alone.outcomes[0]?.reason).toMatch(/document "huge-0" for index "slotsync-sinkf-/);
  });

  it("stops at the write deadline with what is left retryable", async () => {
    proxy.setFaults({ rate: 1, statuses: [429], onlyPaths: BULK_ONLY });
    const slow = through({ maxRetries: 50, baseDelayMs: 100, maxDelayMs: 100, writeDeadlineMs: 400 });
    try {
      const started = Date.now();
      const { outcomes, stats } = await slow.write(ops(2, "deadline"));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(outcomes.every((o) => o.status === "retryable")).toBe(true);
      expect(outcomes[0]?.reason).toMatch(/deadline/);
      expect(stats.requests).toBeLessThan(51);
    } finally {
      await slow.close();
    }
  });

  it("ends in retryable outcomes when nothing listens at the URL", async () => {
    // Port 9 (discard) on loopback: nothing listens there on these machines; connect is refused.
    const nowhere = createSink({ ...config("http://127.0.0.1:9"), ...FAST, maxRetries: 2 });
    try {
      const { outcomes, stats } = await nowhere.write(ops(2, "nowhere"));
      expect(outcomes.map((o) => [o.status, o.errorType, o.attempts])).toEqual([
        ["retryable", "network", 3],
        ["retryable", "network", 3],
      ]);
      expect(stats.requests).toBe(3);
      await expect(nowhere.indexExists(index)).rejects.toMatchObject({
        retryable: true,
        errorType: "network",
      });
    } finally {
      await nowhere.close();
    }
  });

  it("retries admin calls too", async () => {
    proxy.setFaults({ failNext: 2, statuses: [503], onlyPaths: /_refresh/ });
    await sink.refresh(index);
    expect(proxy.stats().byStatus[503]).toBeGreaterThanOrEqual(2);
  });
});
