import { describe, expect, it } from "vitest";
import {
  DriftGuard,
  driftAtStart,
  readCurrentDrift,
  readSchemaRecords,
  recordName,
  schemaHash,
} from "../../../lib/drift";
import { bookCatalog, bookSchema, bootstrapAt, MemoryDriftStore } from "./fakes";

const slot = "slotsync_app";

function clock(start = Date.parse("2026-11-21T10:00:00.000Z")) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

async function setup(intervalMs = 60_000) {
  const catalog = bookCatalog();
  const store = new MemoryDriftStore();
  const time = clock();
  const options = { store, slot, source: "poller", intervalMs, now: time.now };
  const guard = await DriftGuard.open(catalog, bookSchema(), "h1", options);
  return { catalog, store, time, guard, options };
}

describe("DriftGuard", () => {
  it("registers the schema's fingerprint as the deployed one, and passes while nothing changed", async () => {
    const { catalog, store, guard } = await setup();
    const [record] = await readSchemaRecords(store, slot);
    expect(record).toMatchObject({ schemaHash: "h1", drift: null });
    expect(record?.fingerprint.tables.map((t) => t.name)).toEqual(["book", "publisher"]);
    expect(await guard.check(catalog)).toEqual({ status: "ok" });
  });

  it("checks at its interval, and while drift lasts before every cycle", async () => {
    const { catalog, time, guard } = await setup(60_000);
    await guard.beforeCycle(catalog);
    const after = catalog.queries;
    await guard.beforeCycle(catalog);
    expect(catalog.queries).toBe(after);
    time.advance(60_000);
    await guard.beforeCycle(catalog);
    expect(catalog.queries).toBe(after + 1);

    catalog.table("book").columns.splice(1, 1); // title dropped
    time.advance(60_000);
    expect((await guard.beforeCycle(catalog)).status).toBe("drift");
    const blocked = catalog.queries;
    expect((await guard.beforeCycle(catalog)).status).toBe("drift");
    expect(catalog.queries).toBe(blocked + 1);
  });

  it("records a dropped column for the monitor, keeps its detection time, and clears it once it is back", async () => {
    const { catalog, store, time, guard } = await setup();
    const title = catalog.table("book").columns.splice(1, 1);
    const verdict = await guard.check(catalog);
    expect(verdict.status).toBe("drift");
    if (verdict.status === "ok") throw new Error("no drift");
    expect(verdict.error.findings).toMatchObject([
      { index: "book", column: "title", kind: "column-missing" },
    ]);
    const first = await readCurrentDrift(store, slot);
    expect(first?.drift).toMatchObject({ source: "poller", detectedAt: "2026-11-21T10:00:00.000Z" });

    time.advance(300_000);
    await guard.check(catalog);
    const second = await readCurrentDrift(store, slot);
    expect(second?.drift).toMatchObject({
      detectedAt: "2026-11-21T10:00:00.000Z",
      checkedAt: "2026-11-21T10:05:00.000Z",
    });

    catalog.table("book").columns.splice(1, 0, ...title);
    expect(await guard.check(catalog)).toEqual({ status: "ok" });
    expect((await readCurrentDrift(store, slot))?.drift).toBeNull();
  });

  it("checks after a failure only when the error suggests drift", async () => {
    const { catalog, guard } = await setup();
    const before = catalog.queries;
    expect(await guard.afterFailure(catalog, new Error("connection reset"))).toEqual({ status: "ok" });
    expect(catalog.queries).toBe(before);
    catalog.table("book").columns.splice(1, 1);
    const verdict = await guard.afterFailure(
      catalog,
      Object.assign(new Error("no column"), { code: "42703" }),
    );
    expect(verdict.status).toBe("drift");
  });

  it("finds a type change against the first fingerprint, also in a process that resolved after it", async () => {
    const { catalog, store, time, options } = await setup();
    catalog.table("book").columns[2] = { name: "price", type: "text", attnum: 3 };
    time.advance(60_000);
    // A cold start after the ALTER: its own resolve already has the new type.
    const later = await DriftGuard.open(catalog, bookSchema(), "h1", options);
    const verdict = await later.check(catalog);
    expect(verdict.status).toBe("drift");
    if (verdict.status === "ok") throw new Error("no drift");
    expect(verdict.error.findings).toMatchObject([
      { column: "price", kind: "type-changed", was: "numeric", now: "text" },
    ]);

    // A re-index of the index started before the detection does not accept it; one started after does.
    store.bootstraps.push(bootstrapAt("book", "2026-11-21T09:00:00.000Z"));
    expect((await later.check(catalog)).status).toBe("drift");
    store.bootstraps.push(bootstrapAt("book", "2026-11-21T10:02:00.000Z"));
    expect(await later.check(catalog)).toEqual({ status: "ok" });
    const [record] = await readSchemaRecords(store, slot);
    expect(record?.drift).toBeNull();
    expect(record?.fingerprint.tables[0]?.columns).toContainEqual({ name: "price", type: "text", attnum: 3 });
  });

  it("tells a process that resolved with the old type to resolve again once the new one is accepted", async () => {
    const { catalog, store, guard } = await setup();
    catalog.table("book").columns[2] = { name: "price", type: "text", attnum: 3 };
    expect((await guard.check(catalog)).status).toBe("drift");
    store.bootstraps.push(bootstrapAt("book", "2026-11-21T10:00:00.000Z"));
    expect((await guard.check(catalog)).status).toBe("reload");
  });

  it("a schema that no longer resolves is compared by its stored fingerprint", async () => {
    const { catalog, store, options } = await setup();
    const hash = "h1";
    expect(await driftAtStart(catalog, hash, options)).toBeUndefined();
    catalog.tables = catalog.tables.filter((t) => t.name !== "publisher");
    const drift = await driftAtStart(catalog, hash, options);
    expect(drift?.findings).toMatchObject([{ table: "public.publisher", kind: "table-missing" }]);
    expect((await readCurrentDrift(store, slot))?.drift?.findings).toHaveLength(1);
    // A schema never resolved before has no fingerprint: its resolve error stands on its own.
    expect(await driftAtStart(catalog, "never", options)).toBeUndefined();
  });

  it("the deployed schema is the one a process started with last; old ones are pruned", async () => {
    const { catalog, store, time, options } = await setup();
    for (let i = 0; i < 6; i++) {
      time.advance(1000);
      await DriftGuard.open(catalog, bookSchema(), schemaHash([i]), options);
    }
    const records = await readSchemaRecords(store, slot);
    expect(records).toHaveLength(5);
    expect(records[0]?.schemaHash).toBe(schemaHash([5]));
    expect((await store.readDrift(slot))[recordName("h1")]).toBeUndefined();
    expect((await readCurrentDrift(store, slot))?.schemaHash).toBe(schemaHash([5]));
  });
});
