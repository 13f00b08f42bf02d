import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BootstrapBusyError, lockName, withBootstrapLock } from "../../../lib/bootstrap";
import { FileCheckpointStore } from "../../../lib/checkpoint";
import { FakeClock } from "./fakes";

let dir: string;
let store: FileCheckpointStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-lock-"));
  store = new FileCheckpointStore({ dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bootstrap lock", () => {
  it("is a lease of its own, never the poller's", async () => {
    const slot = "x".repeat(63);
    expect(lockName(slot)).not.toBe(slot);
    expect(lockName(slot).length).toBeLessThanOrEqual(63);
    expect(await store.acquire(slot, "poller", 60_000)).not.toBeNull();
    expect(await withBootstrapLock(store, slot, { holder: "bootstrap" }, async () => "ran")).toBe("ran");
  });

  it("a second holder is refused while the first runs, and gets it afterwards", async () => {
    const clock = new FakeClock();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const holding = new Promise<void>((r) => {
      entered = r;
    });
    const first = withBootstrapLock(store, "s", { holder: "a" }, () => {
      entered();
      return gate;
    });
    // The first holder must really hold the lock before the second one tries.
    await holding;
    await expect(
      withBootstrapLock(
        store,
        "s",
        { holder: "b", now: clock.now, sleep: clock.sleep, waitMs: 2000 },
        async () => 1,
      ),
    ).rejects.toBeInstanceOf(BootstrapBusyError);
    release();
    await first;
    expect(await withBootstrapLock(store, "s", { holder: "b" }, async () => 2)).toBe(2);
  });

  it("releases the lock when the work throws", async () => {
    await expect(
      withBootstrapLock(store, "s", { holder: "a" }, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await store.holder(lockName("s"))).toBeNull();
  });
});
