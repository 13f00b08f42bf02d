import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckpointError, FileCheckpointStore, type LeaseGrant } from "../../../lib/checkpoint";

// File-store behaviour the shared contract tests (test/integration/checkpoint.test.ts) cannot
// show from one process: other processes, dead processes, abandoned locks and damaged files.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-file-store-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that existed and has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  if (!child.pid) throw new Error("could not start a child process");
  return child.pid;
}

const CHECKPOINT = {
  lsn: "18446744073709551615",
  committedAt: null,
  updatedAt: "2026-11-21T10:00:00.000Z",
  counts: { transactions: 1, changes: 2, keys: 3 },
};

describe("FileCheckpointStore across processes", () => {
  it("gives the lease to exactly one of several processes racing for it", async () => {
    const moduleUrl = new URL("../../../lib/checkpoint/index.ts", import.meta.url).href;
    // Each child tries once, reports, and stays alive (holding what it got) until stdin closes.
    const script = `
      const { FileCheckpointStore } = await import(${JSON.stringify(moduleUrl)});
      const store = new FileCheckpointStore({ dir: ${JSON.stringify(dir)} });
      const grant = await store.acquire("race", "p" + process.pid, 60000);
      process.stdout.write(JSON.stringify(grant) + "\\n");
      process.stdin.resume();
      process.stdin.on("end", () => process.exit(0));`;
    const children: ChildProcess[] = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    try {
      const answers = await Promise.all(
        children.map(
          (child) =>
            new Promise<LeaseGrant | null>((resolve, reject) => {
              let out = "";
              child.stdout?.on("data", (chunk) => {
                out += chunk;
                if (out.includes("\n")) resolve(JSON.parse(out));
              });
              child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
            }),
        ),
      );
      const winners = answers.filter((a) => a !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.token).toBe(1);
      const store = new FileCheckpointStore({ dir });
      expect((await store.holder("race"))?.holderId).toBe(winners[0]?.holderId);
    } finally {
      for (const child of children) child.stdin?.end();
    }
  });

  it("frees a lease whose process has died, without waiting for its TTL", async () => {
    const store = new FileCheckpointStore({ dir });
    const first = await store.acquire("slot_a", "crashed", 3_600_000);
    expect(first?.token).toBe(1);
    const leasePath = join(dir, "slot_a", "lease.json");
    const lease = JSON.parse(await readFile(leasePath, "utf8"));
    await writeFile(leasePath, JSON.stringify({ ...lease, pid: deadPid() }));
    expect(await store.holder("slot_a")).toBeNull();
    const second = await store.acquire("slot_a", "next", 60_000);
    expect(second?.token).toBe(2);
    await expect(store.writeCheckpoint(first as LeaseGrant, CHECKPOINT)).rejects.toMatchObject({
      name: "LeaseLostError",
      currentToken: 2,
    });
  });

  it("breaks a lock abandoned by a dead process", async () => {
    await writeFile(join(dir, "slot_b.lock"), JSON.stringify({ pid: deadPid(), nonce: "x", at: Date.now() }));
    const store = new FileCheckpointStore({ dir, lock: { timeoutMs: 2_000 } });
    expect(await store.acquire("slot_b", "h", 60_000)).toMatchObject({ token: 1 });
    expect((await readdir(dir)).includes("slot_b.lock")).toBe(false);
  });

  it("waits for a live lock and then fails with a retryable error, leaving the lock alone", async () => {
    const lockPath = join(dir, "slot_c.lock");
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, nonce: "someone-else", at: Date.now() }));
    const store = new FileCheckpointStore({ dir, lock: { timeoutMs: 150 } });
    const error = await store.acquire("slot_c", "h", 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/held by pid \d+/);
    expect(await readFile(lockPath, "utf8")).toContain("someone-else");
  });
});

describe("FileCheckpointStore files", () => {
  it("writes plain JSON files atomically and leaves no temporary files behind", async () => {
    const store = new FileCheckpointStore({ dir });
    const lease = await store.acquire("slot_d", "h", 60_000);
    if (!lease) throw new Error("acquire failed");
    await Promise.all(Array.from({ length: 20 }, () => store.writeCheckpoint(lease, CHECKPOINT)));
    const files = await readdir(join(dir, "slot_d"));
    expect(files.sort()).toEqual(["checkpoint.json", "lease.json"]);
    expect(JSON.parse(await readFile(join(dir, "slot_d", "checkpoint.json"), "utf8"))).toEqual(CHECKPOINT);
    expect((await readdir(dir)).sort()).toEqual(["slot_d", "slot_d.fence"]);
  });

  it("refuses a damaged file with a non-retryable error that says what to do", async () => {
    const store = new FileCheckpointStore({ dir });
    await store.writeAlert("slot_e", "wal", {
      level: "ok",
      since: "2026-11-21T10:00:00.000Z",
      lastNotifiedAt: null,
    });
    await writeFile(join(dir, "slot_e", "checkpoint.json"), "{not json");
    const error = await store.readCheckpoint("slot_e").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "CheckpointError", retryable: false });
    expect((error as CheckpointError).fix).toMatch(/slotsync reset/);
    await writeFile(join(dir, "slot_e", "checkpoint.json"), JSON.stringify({ ...CHECKPOINT, lsn: 5 }));
    await expect(store.readCheckpoint("slot_e")).rejects.toThrow(/not readable/);
  });

  it("validates what it is asked to store", async () => {
    const store = new FileCheckpointStore({ dir });
    const lease = await store.acquire("slot_f", "h", 60_000);
    if (!lease) throw new Error("acquire failed");
    await expect(store.writeStats(lease, { bogus: 1 } as never)).rejects.toMatchObject({
      where: "stats.bogus",
    });
    await expect(store.writeStats(lease, { lagBytes: Number.NaN })).rejects.toMatchObject({
      where: "stats.lagBytes",
    });
    await expect(
      store.writeAlert("slot_f", "wal", {
        level: "loud" as never,
        since: "2026-11-21T10:00:00Z",
        lastNotifiedAt: null,
      }),
    ).rejects.toMatchObject({ where: "alert.level" });
    await store.beginBootstrap("slot_f", { bootstrapId: "b", index: "i", lsn: "1", rangeIds: ["r"] });
    await expect(store.markRange("slot_f", "b", "r", { status: "pending" as never })).rejects.toMatchObject({
      where: "range.status",
    });
    await expect(
      store.beginBootstrap("slot_f", { bootstrapId: "b", index: "i", lsn: "x", rangeIds: [] }),
    ).rejects.toThrow(CheckpointError);
    await expect(store.acquire("slot_f", "", 1000)).rejects.toMatchObject({ where: "holderId" });
  });
});
