import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProgressMeter, type ProgressUpdate, recordName, watchBootstrap } from "../../../lib/bootstrap";
import { FileCheckpointStore } from "../../../lib/checkpoint";
import { FakeClock, FakeEngine } from "./fakes";

const startedAt = "2026-01-21T10:00:00.000Z";
const t0 = Date.parse(startedAt);

describe("progress meter", () => {
  it("has no rate from a single reading", () => {
    const meter = new ProgressMeter();
    expect(meter.update({ done: 0, total: 10, documents: 0, startedAt }, t0)).toEqual({
      documentsPerSecond: null,
      etaMs: null,
      elapsedMs: 0,
    });
  });

  it("documents per second and time left from the recent range rate", () => {
    const meter = new ProgressMeter(30_000);
    meter.update({ done: 0, total: 10, documents: 0, startedAt }, t0);
    // 2 ranges of 1000 documents in 4 s: 500 documents/s, 8 ranges left at 0.5 ranges/s = 16 s.
    expect(meter.update({ done: 2, total: 10, documents: 2000, startedAt }, t0 + 4000)).toEqual({
      documentsPerSecond: 500,
      etaMs: 16_000,
      elapsedMs: 4000,
    });
  });

  it("follows the current speed, not the average since the start", () => {
    const meter = new ProgressMeter(10_000);
    meter.update({ done: 0, total: 100, documents: 0, startedAt }, t0);
    meter.update({ done: 1, total: 100, documents: 100, startedAt }, t0 + 20_000);
    meter.update({ done: 11, total: 100, documents: 1100, startedAt }, t0 + 30_000);
    const last = meter.update({ done: 21, total: 100, documents: 2100, startedAt }, t0 + 40_000);
    // The window holds the last 10 s: 1000 documents, 10 ranges.
    expect(last.documentsPerSecond).toBe(100);
    expect(last.etaMs).toBe(79_000);
  });

  it("nothing left: time left is zero", () => {
    const meter = new ProgressMeter();
    meter.update({ done: 9, total: 10, documents: 9, startedAt }, t0);
    expect(meter.update({ done: 10, total: 10, documents: 10, startedAt }, t0 + 1000).etaMs).toBe(0);
  });
});

describe("watching a copy", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "slotsync-watch-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports progress after every reading and switches the alias when the last range is done", async () => {
    const store = new FileCheckpointStore({ dir });
    const engine = new FakeEngine();
    const clock = new FakeClock(t0);
    const slot = "watch_slot";
    const id = "book-20260121100000000";
    engine.indices.set(id, {});
    await store.beginBootstrap(slot, {
      bootstrapId: id,
      index: "book",
      lsn: "1",
      rangeIds: ["a", "b", "c"],
      startedAt,
    });
    await store.writeAlert(slot, recordName("book"), {
      level: "ok",
      since: startedAt,
      lastNotifiedAt: null,
      message: JSON.stringify({
        v: 1,
        index: "book",
        serving: null,
        building: { bootstrapId: id, concrete: id, bodyHash: "h", phase: "copying", reindex: false },
        retired: [],
      }),
    });
    // Each pause between readings, a consumer finishes one range of 100 documents.
    const pending = ["a", "b", "c"];
    const sleep = async (ms: number) => {
      clock.ms += ms;
      const range = pending.shift();
      if (range) await store.markRange(slot, id, range, { status: "done", documents: 100 });
    };
    const seen: ProgressUpdate[][] = [];
    const last = await watchBootstrap(
      { slot, store, sink: engine.sink(), now: clock.now, sleep, holder: "cli" },
      [{ index: "book", bootstrapId: id }],
      { intervalMs: 1000, onProgress: (u) => seen.push(u) },
    );
    expect(seen.map((u) => u[0]?.done)).toEqual([0, 1, 2, 3]);
    expect(seen[2]?.[0]).toMatchObject({ documentsPerSecond: 100, etaMs: 1000, state: "copying" });
    expect(last).toMatchObject([{ done: 3, total: 3, documents: 300, etaMs: 0, state: "serving" }]);
    expect(engine.aliases.get("book")).toEqual([id]);
  });
});
