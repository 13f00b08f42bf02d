import { createHash } from "node:crypto";
import { readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, LeaseLostError } from "./errors";
import { type LockOptions, pidAlive, readJson, withLock, writeJsonAtomic } from "./files";
import type {
  AlertState,
  BootstrapPlan,
  BootstrapProgress,
  Checkpoint,
  CheckpointStore,
  DriftRecord,
  Lease,
  LeaseGrant,
  LeaseInfo,
  LeaseRef,
  PollerStats,
  RangeMarkResult,
  RangeProgress,
  RangeUpdate,
} from "./types";
import * as v from "./validate";

/** Options of {@link FileCheckpointStore}. */
export interface FileCheckpointOptions {
  /** Directory holding the state of all slots (created when missing). */
  dir: string;
  now?: () => Date;
  lock?: LockOptions;
}

/** The lease file: who holds the slot, until when, and from which process. */
interface LeaseFile {
  holder: string;
  token: number;
  pid: number;
  acquiredAt: string;
  expiresAtMs: number;
}

interface BootstrapMeta {
  bootstrapId: string;
  index: string;
  lsn: string;
  total: number;
  startedAt: string;
  completedAt: string | null;
  /** Ranges done, kept here so marking a range does not read every range file. */
  done: number;
}

/**
 * {@link CheckpointStore} and {@link Lease} in a local directory, for local mode without Upstash.
 * Same semantics as the Upstash store; every mutation of a slot runs under that slot's lock file
 * and replaces files atomically (temp file + rename), so concurrent processes neither tear nor
 * lose writes.
 *
 * Layout under `dir`: `<slot>.lock` (mutation lock), `<slot>.fence` (token counter, survives
 * reset), and `<slot>/`: `lease.json` (holder, token, pid, expiry), `checkpoint.json`,
 * `stats.json`, `alerts.json`, `drift.json`, `bootstraps/<id>/meta.json`, `bootstraps/<id>/ranges/<sha>.json`
 * (one file per range, so marking a range rewrites only that range).
 *
 * A lease whose process is gone (same host) is free at once; otherwise it expires after its TTL.
 */
export class FileCheckpointStore implements CheckpointStore, Lease {
  private readonly dir: string;
  private readonly now: () => Date;

  constructor(private readonly options: FileCheckpointOptions) {
    this.dir = options.dir;
    this.now = options.now ?? (() => new Date());
  }

  private slotDir(slot: string): string {
    return join(this.dir, v.checkSlot(slot));
  }

  private bootstrapDir(slot: string, id: string): string {
    return join(this.slotDir(slot), "bootstraps", v.checkId("bootstrapId", id));
  }

  private rangePath(slot: string, id: string, rangeId: string): string {
    // Hashed: range ids are free text, and file names must not depend on the file system's case rules.
    const name = createHash("sha256").update(rangeId).digest("hex").slice(0, 40);
    return join(this.bootstrapDir(slot, id), "ranges", `${name}.json`);
  }

  private locked<T>(slot: string, fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.dir, `${v.checkSlot(slot)}.lock`), fn, this.options.lock);
  }

  /** The slot's lease if it is live: not expired and its process still running. */
  private async liveLease(slot: string): Promise<LeaseFile | undefined> {
    const lease = (await readJson(join(this.slotDir(slot), "lease.json"))) as LeaseFile | undefined;
    if (!lease) return undefined;
    return lease.expiresAtMs > Date.now() && pidAlive(lease.pid) ? lease : undefined;
  }

  async acquire(slot: string, holderId: string, ttlMs: number): Promise<LeaseGrant | null> {
    if (!holderId) throw new CheckpointError("holder id must not be empty", { where: "holderId" });
    v.checkTtl(ttlMs);
    return this.locked(slot, async () => {
      if (await this.liveLease(slot)) return null;
      const fencePath = join(this.dir, `${slot}.fence`);
      const fence = (await readJson(fencePath)) as { token?: number } | undefined;
      const token = (fence?.token ?? 0) + 1;
      // The counter first: a crash between the two writes wastes a token, never reuses one.
      await writeJsonAtomic(fencePath, { token });
      const lease: LeaseFile = {
        holder: holderId,
        token,
        pid: process.pid,
        acquiredAt: this.now().toISOString(),
        expiresAtMs: Date.now() + ttlMs,
      };
      await writeJsonAtomic(join(this.slotDir(slot), "lease.json"), lease);
      return { slot, holderId, token, ttlMs };
    });
  }

  async renew(lease: LeaseRef, ttlMs = lease.ttlMs): Promise<boolean> {
    v.checkLease(lease);
    const ttl = v.checkTtl(ttlMs);
    return this.locked(lease.slot, async () => {
      const current = await this.liveLease(lease.slot);
      if (current?.token !== lease.token) return false;
      await writeJsonAtomic(join(this.slotDir(lease.slot), "lease.json"), {
        ...current,
        expiresAtMs: Date.now() + ttl,
      });
      return true;
    });
  }

  async release(lease: LeaseRef): Promise<boolean> {
    v.checkLease(lease);
    return this.locked(lease.slot, async () => {
      const current = await this.liveLease(lease.slot);
      if (current?.token !== lease.token) return false;
      await unlink(join(this.slotDir(lease.slot), "lease.json")).catch(() => {});
      return true;
    });
  }

  async holder(slot: string): Promise<LeaseInfo | null> {
    const lease = await this.liveLease(slot);
    return lease
      ? { holderId: lease.holder, token: lease.token, expiresInMs: lease.expiresAtMs - Date.now() }
      : null;
  }

  /** Runs `write` only while `lease` is the slot's live lease, under the slot lock. */
  private fenced(lease: LeaseRef, write: () => Promise<void>): Promise<void> {
    v.checkLease(lease);
    return this.locked(lease.slot, async () => {
      const current = await this.liveLease(lease.slot);
      if (current?.token !== lease.token)
        throw new LeaseLostError(lease.slot, lease.token, current?.token ?? null);
      await write();
    });
  }

  async readCheckpoint(slot: string): Promise<Checkpoint | null> {
    const path = join(this.slotDir(slot), "checkpoint.json");
    const cp = (await readJson(path)) as Checkpoint | undefined;
    if (!cp) return null;
    try {
      return v.checkCheckpoint(cp);
    } catch (error) {
      return v.corrupt(path, (error as Error).message);
    }
  }

  async writeCheckpoint(lease: LeaseRef, checkpoint: Checkpoint): Promise<void> {
    const cp = v.checkCheckpoint(checkpoint);
    const value: Checkpoint = {
      lsn: cp.lsn,
      committedAt: cp.committedAt,
      updatedAt: cp.updatedAt,
      counts: { ...cp.counts },
    };
    await this.fenced(lease, () => writeJsonAtomic(join(this.slotDir(lease.slot), "checkpoint.json"), value));
  }

  async readStats(slot: string): Promise<PollerStats | null> {
    const stats = (await readJson(join(this.slotDir(slot), "stats.json"))) as
      | Partial<PollerStats>
      | undefined;
    if (!stats) return null;
    return Object.fromEntries(v.STATS_FIELDS.map((f) => [f, stats[f] ?? null])) as unknown as PollerStats;
  }

  async writeStats(lease: LeaseRef, stats: Partial<PollerStats>): Promise<void> {
    v.checkStats(stats);
    const path = join(this.slotDir(lease.slot), "stats.json");
    await this.fenced(lease, async () => {
      const old = ((await readJson(path)) ?? {}) as Partial<PollerStats>;
      const patch = Object.fromEntries(Object.entries(stats).filter(([, value]) => value !== undefined));
      await writeJsonAtomic(path, { ...old, ...patch });
    });
  }

  async beginBootstrap(slot: string, plan: BootstrapPlan): Promise<void> {
    v.checkLsn("plan.lsn", plan.lsn);
    const startedAt = v.checkTime("plan.startedAt", plan.startedAt ?? this.now().toISOString());
    if (!plan.index) throw new CheckpointError("index must not be empty", { where: "plan.index" });
    const rangeIds = [...new Set(plan.rangeIds.map(v.checkRangeId))];
    const dir = this.bootstrapDir(slot, plan.bootstrapId);
    await this.locked(slot, async () => {
      const old = (await readJson(join(dir, "meta.json"))) as BootstrapMeta | undefined;
      const meta: BootstrapMeta = {
        bootstrapId: plan.bootstrapId,
        index: plan.index,
        lsn: plan.lsn,
        total: rangeIds.length,
        startedAt: old?.startedAt ?? startedAt,
        completedAt: old?.completedAt ?? null,
        done: old?.done ?? 0,
      };
      await writeJsonAtomic(join(dir, "meta.json"), meta);
      const pending: RangeProgress = { status: "pending", documents: 0, updatedAt: startedAt };
      for (const rangeId of rangeIds) {
        const path = this.rangePath(slot, plan.bootstrapId, rangeId);
        if ((await readJson(path)) === undefined) await writeJsonAtomic(path, { rangeId, ...pending });
      }
    });
  }

  async markRange(
    slot: string,
    bootstrapId: string,
    rangeId: string,
    update: RangeUpdate,
  ): Promise<RangeMarkResult> {
    v.checkRangeId(rangeId);
    const at = v.checkRangeUpdate(update).at ?? this.now().toISOString();
    const dir = this.bootstrapDir(slot, bootstrapId);
    return this.locked(slot, async () => {
      const meta = (await readJson(join(dir, "meta.json"))) as BootstrapMeta | undefined;
      if (!meta) return { applied: false, reason: "unknown-bootstrap", done: 0, total: 0, completed: false };
      const path = this.rangePath(slot, bootstrapId, rangeId);
      const old = (await readJson(path)) as RangeProgress | undefined;
      const final = old?.status === "done" && update.status !== "done";
      if (!final) await writeJsonAtomic(path, { rangeId, ...v.rangeRecord(update, at) });
      const newlyDone = !final && update.status === "done" && old?.status !== "done";
      if (newlyDone) meta.done += 1;
      if (meta.total > 0 && meta.done >= meta.total && !meta.completedAt) meta.completedAt = at;
      if (newlyDone) await writeJsonAtomic(join(dir, "meta.json"), meta);
      return {
        applied: !final,
        ...(final ? { reason: "done-is-final" as const } : {}),
        done: meta.done,
        total: meta.total,
        completed: meta.completedAt !== null,
      };
    });
  }

  private async readRanges(slot: string, bootstrapId: string): Promise<Record<string, RangeProgress>> {
    const dir = join(this.bootstrapDir(slot, bootstrapId), "ranges");
    const names = await readdir(dir).catch(() => [] as string[]);
    const ranges: Record<string, RangeProgress> = {};
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const raw = (await readJson(join(dir, name))) as ({ rangeId?: string } & RangeProgress) | undefined;
      if (!raw?.rangeId) continue;
      const { rangeId, ...range } = raw;
      ranges[rangeId] = v.parseRange(dir, rangeId, range);
    }
    return ranges;
  }

  async readBootstrap(slot: string, bootstrapId: string): Promise<BootstrapProgress | null> {
    const meta = (await readJson(join(this.bootstrapDir(slot, bootstrapId), "meta.json"))) as
      | BootstrapMeta
      | undefined;
    if (!meta) return null;
    const { done: _counted, ...rest } = meta;
    return v.summarise(rest, await this.readRanges(slot, bootstrapId));
  }

  async listBootstraps(slot: string): Promise<string[]> {
    const root = join(this.slotDir(slot), "bootstraps");
    const ids = await readdir(root).catch(() => [] as string[]);
    const metas = await Promise.all(
      ids.map((id) => readJson(join(root, id, "meta.json")) as Promise<BootstrapMeta>),
    );
    return metas
      .filter((m): m is BootstrapMeta => m !== undefined)
      .sort(
        (a, b) =>
          Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.bootstrapId.localeCompare(a.bootstrapId),
      )
      .map((m) => m.bootstrapId);
  }

  async readAlert(slot: string, name: string): Promise<AlertState | null> {
    const path = join(this.slotDir(slot), "alerts.json");
    const alerts = (await readJson(path)) as Record<string, unknown> | undefined;
    const value = alerts?.[v.checkId("alert name", name)];
    return value === undefined ? null : v.parseAlert(`${path} ${name}`, value);
  }

  async writeAlert(slot: string, name: string, state: AlertState): Promise<void> {
    v.checkId("alert name", name);
    v.checkAlert(state);
    const path = join(this.slotDir(slot), "alerts.json");
    await this.locked(slot, async () => {
      const alerts = ((await readJson(path)) ?? {}) as Record<string, AlertState>;
      await writeJsonAtomic(path, { ...alerts, [name]: state });
    });
  }

  async readDrift(slot: string): Promise<Record<string, DriftRecord>> {
    const path = join(this.slotDir(slot), "drift.json");
    const records = (await readJson(path)) as Record<string, unknown> | undefined;
    const out: Record<string, DriftRecord> = {};
    for (const [name, value] of Object.entries(records ?? {}))
      out[name] = v.parseDrift(`${path} ${name}`, value);
    return out;
  }

  async writeDrift(slot: string, name: string, record: DriftRecord): Promise<void> {
    v.checkId("drift name", name);
    v.checkDriftRecord(record);
    const path = join(this.slotDir(slot), "drift.json");
    await this.locked(slot, async () => {
      const records = ((await readJson(path)) ?? {}) as Record<string, DriftRecord>;
      await writeJsonAtomic(path, { ...records, [name]: record });
    });
  }

  async clearDrift(slot: string, name?: string): Promise<void> {
    if (name !== undefined) v.checkId("drift name", name);
    const path = join(this.slotDir(slot), "drift.json");
    await this.locked(slot, async () => {
      if (name === undefined) return unlink(path).catch(() => {});
      const records = ((await readJson(path)) ?? {}) as Record<string, DriftRecord>;
      if (!(name in records)) return;
      const { [name]: _gone, ...rest } = records;
      await writeJsonAtomic(path, rest);
    });
  }

  async reset(slot: string): Promise<void> {
    await this.locked(slot, () => rm(this.slotDir(slot), { recursive: true, force: true }));
  }
}
