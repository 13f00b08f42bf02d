import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type IndexRecord, recordName, WriteTargetResolver } from "../../../lib/bootstrap";
import { FileCheckpointStore } from "../../../lib/checkpoint";
import { FakeClock, FakeEngine } from "./fakes";

const slot = "targets_slot";
let dir: string;
let store: FileCheckpointStore;
let engine: FakeEngine;
let clock: FakeClock;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-targets-"));
  store = new FileCheckpointStore({ dir });
  engine = new FakeEngine();
  clock = new FakeClock();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function record(fields: Partial<IndexRecord>): Promise<void> {
  const value: IndexRecord = { v: 1, index: "book", serving: null, building: null, retired: [], ...fields };
  await store.writeAlert(slot, recordName("book"), {
    level: "ok",
    since: new Date().toISOString(),
    lastNotifiedAt: null,
    message: JSON.stringify(value),
  });
}

const building = (phase: "creating" | "copying") => ({
  bootstrapId: "book-20260121100000000",
  concrete: "book-20260121100000000",
  bodyHash: "h",
  phase,
  reindex: false,
});

function resolver(ttlMs = 0) {
  return new WriteTargetResolver({ slot, store, sink: engine.sink(), ttlMs, now: clock.now });
}

describe("write targets", () => {
  it("nothing exists yet: the index name, as without a resolver", async () => {
    expect(await resolver().targets("book")).toEqual(["book"]);
  });

  it("first bootstrap: only the copy being built (no alias exists to write through)", async () => {
    engine.indices.set("book-20260121100000000", {});
    await record({ building: building("copying") });
    expect(await resolver().targets("book")).toEqual(["book-20260121100000000"]);
  });

  it("a copy still being created is not written to (a write would auto-create it)", async () => {
    await record({ building: building("creating") });
    expect(await resolver().targets("book")).toEqual(["book"]);
  });

  it("re-index: the serving alias and the new copy, so both stay in sync", async () => {
    engine.indices.set("book-old", {});
    engine.aliases.set("book", ["book-old"]);
    await record({ building: building("copying") });
    expect(await resolver().targets("book")).toEqual(["book", "book-20260121100000000"]);
  });

  it("taking over PGSync's concrete index: it and the copy", async () => {
    engine.indices.set("book", {});
    await record({ building: building("copying") });
    expect(await resolver().targets("book")).toEqual(["book", "book-20260121100000000"]);
  });

  it("a range copy goes to the copy it belongs to only", async () => {
    engine.aliases.set("book", ["book-old"]);
    await record({ building: building("copying") });
    expect(await resolver().targets("book", { bootstrapId: "book-20260121100000000" })).toEqual([
      "book-20260121100000000",
    ]);
    expect(await resolver().targets("book", { bootstrapId: "rebuild-77" })).toEqual([
      "book",
      "book-20260121100000000",
    ]);
  });

  it("once the alias points at the copy, only the alias", async () => {
    engine.aliases.set("book", ["book-20260121100000000"]);
    await record({ building: building("copying") });
    expect(await resolver().targets("book")).toEqual(["book"]);
  });

  it("caches for its TTL, then looks again", async () => {
    const r = resolver(10_000);
    engine.aliases.set("book", ["book-old"]);
    expect(await r.targets("book")).toEqual(["book"]);
    await record({ building: building("copying") });
    clock.ms += 9_999;
    expect(await r.targets("book")).toEqual(["book"]);
    clock.ms += 1;
    expect(await r.targets("book")).toEqual(["book", "book-20260121100000000"]);
    await record({ building: null });
    r.invalidate("book");
    expect(await r.targets("book")).toEqual(["book"]);
  });
});
