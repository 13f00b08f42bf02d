import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CompletionDeps,
  completeBootstrap,
  type IndexRecord,
  maintainBootstraps,
  onRangeDone,
  type PollerSchedule,
  readIndexRecord,
  recordName,
} from "../../../lib/bootstrap";
import { FileCheckpointStore } from "../../../lib/checkpoint";
import { FakeClock, FakeEngine } from "./fakes";

const slot = "complete_slot";
const id = "book-20260121100000000";
let dir: string;
let store: FileCheckpointStore;
let engine: FakeEngine;
let clock: FakeClock;
let schedule: PollerSchedule & { enabled: number };
let deps: CompletionDeps;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-complete-"));
  store = new FileCheckpointStore({ dir });
  engine = new FakeEngine();
  clock = new FakeClock();
  schedule = {
    enabled: 0,
    async enable() {
      this.enabled++;
    },
    async disable() {},
  };
  deps = { slot, sink: engine.sink(), store, schedule, now: clock.now, sleep: clock.sleep, holder: "test" };
  engine.indices.set(id, {});
  await store.beginBootstrap(slot, { bootstrapId: id, index: "book", lsn: "100", rangeIds: ["r1", "r2"] });
  await writeRecord({
    building: { bootstrapId: id, concrete: id, bodyHash: "h", phase: "copying", reindex: true },
  });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeRecord(fields: Partial<IndexRecord>): Promise<void> {
  const value: IndexRecord = { v: 1, index: "book", serving: null, building: null, retired: [], ...fields };
  await store.writeAlert(slot, recordName("book"), {
    level: "ok",
    since: new Date().toISOString(),
    lastNotifiedAt: null,
    message: JSON.stringify(value),
  });
}

describe("completing a copy", () => {
  it("the last rangeDone switches the alias, retires the old copy and enables the poller", async () => {
    engine.indices.set("book-old", {});
    engine.aliases.set("book", ["book-old"]);
    const first = await onRangeDone(deps, id, "r1", 10);
    expect(first.completion).toBeUndefined();
    expect(engine.aliases.get("book")).toEqual(["book-old"]);

    const last = await onRangeDone(deps, id, "r2", 5);
    expect(last.completion).toMatchObject({ state: "serving", switched: true, previous: ["book-old"] });
    expect(engine.aliases.get("book")).toEqual([id]);
    expect(engine.calls).toEqual([`refresh ${id}`, `swap book -> ${id}`]);
    expect(schedule.enabled).toBe(1);
    const record = await readIndexRecord(store, slot, "book");
    expect(record.building).toBeNull();
    expect(record.serving).toMatchObject({ bootstrapId: id, concrete: id });
    expect(record.retired).toEqual([{ concrete: "book-old", deleteAfter: "2026-01-21T11:00:00.000Z" }]);
    // The old copy stays for the grace period.
    expect(engine.indices.has("book-old")).toBe(true);
  });

  it("is idempotent: a redelivered last range or a second call switches nothing again", async () => {
    await onRangeDone(deps, id, "r1", 1);
    await onRangeDone(deps, id, "r2", 1);
    const again = await onRangeDone(deps, id, "r2", 1);
    expect(again.completion).toMatchObject({ state: "serving", switched: false });
    expect(await completeBootstrap(deps, id)).toMatchObject({ state: "serving", switched: false });
    expect(engine.calls.filter((c) => c.startsWith("swap"))).toHaveLength(1);
  });

  it("does nothing while ranges remain", async () => {
    await onRangeDone(deps, id, "r1", 1);
    expect(await completeBootstrap(deps, id)).toMatchObject({ state: "copying", switched: false });
    expect(engine.calls).toEqual([]);
  });

  it("takes over PGSync's concrete index in the same atomic step", async () => {
    engine.indices.set("book", {});
    await onRangeDone(deps, id, "r1", 1);
    const { completion } = await onRangeDone(deps, id, "r2", 1);
    expect(completion).toMatchObject({ switched: true, previous: [] });
    expect(engine.indices.has("book")).toBe(false);
    expect(engine.aliases.get("book")).toEqual([id]);
  });

  it("with deleteOldNow the old copy goes at the switch", async () => {
    engine.indices.set("book-old", {});
    engine.aliases.set("book", ["book-old"]);
    await onRangeDone(deps, id, "r1", 1);
    await onRangeDone(deps, id, "r2", 1, { deleteOldNow: true });
    expect(engine.indices.has("book-old")).toBe(false);
    expect((await readIndexRecord(store, slot, "book")).retired).toEqual([]);
  });

  it("a copy another one replaced is left alone", async () => {
    await writeRecord({
      building: {
        bootstrapId: "book-20260121110000000",
        concrete: "x",
        bodyHash: "h",
        phase: "copying",
        reindex: true,
      },
    });
    await onRangeDone(deps, id, "r1", 1);
    const { completion } = await onRangeDone(deps, id, "r2", 1);
    expect(completion).toMatchObject({ state: "superseded", switched: false });
    expect(engine.aliases.get("book")).toBeUndefined();
  });

  it("ranges of a consumer-side rebuild are marked, never completed", async () => {
    const result = await onRangeDone(deps, "rebuild-123", "all", 4);
    expect(result.mark).toMatchObject({ applied: false, reason: "unknown-bootstrap" });
    expect(result.completion).toBeUndefined();
  });
});

describe("maintenance", () => {
  it("switches a finished copy nobody switched and deletes old copies once their grace has passed", async () => {
    engine.indices.set("book-old", {});
    engine.aliases.set("book", ["book-old"]);
    await store.markRange(slot, id, "r1", { status: "done" });
    await store.markRange(slot, id, "r2", { status: "done" });

    const first = await maintainBootstraps(deps, ["book"], { graceMs: 60_000 });
    expect(first.completed).toMatchObject([{ state: "serving", switched: true }]);
    expect(first.deleted).toEqual([]);

    clock.ms += 59_999;
    expect((await maintainBootstraps(deps, ["book"])).deleted).toEqual([]);
    clock.ms += 1;
    expect((await maintainBootstraps(deps, ["book"])).deleted).toEqual(["book-old"]);
    expect(engine.indices.has("book-old")).toBe(false);
    expect((await readIndexRecord(store, slot, "book")).retired).toEqual([]);
  });

  it("a retired copy the alias points at again is kept and forgotten", async () => {
    engine.indices.set("book-old", {});
    engine.aliases.set("book", ["book-old"]);
    await writeRecord({ retired: [{ concrete: "book-old", deleteAfter: "2000-01-01T00:00:00.000Z" }] });
    expect((await maintainBootstraps(deps, ["book"])).deleted).toEqual([]);
    expect(engine.indices.has("book-old")).toBe(true);
    expect((await readIndexRecord(store, slot, "book")).retired).toEqual([]);
  });
});
