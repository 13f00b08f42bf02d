import { Redis } from "@upstash/redis";
import { CheckpointError, LeaseLostError } from "./errors";
import * as lua from "./scripts";
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

/**
 * The Redis keys of a slot. Everything lives under `slotsync:<slot>:`; the slot name is
 * validated (PostgreSQL's `[a-z0-9_]{1,63}`), so one slot's keys never match another's.
 */
export function redisKeys(slot: string) {
  const p = `slotsync:${v.checkSlot(slot)}:`;
  return {
    prefix: p,
    /** Hash {holder, token, acquiredAt} with a PX expiry: the lease. */
    lease: `${p}lease`,
    /** Counter INCRed per acquisition: the fencing tokens. Survives reset. */
    fence: `${p}lease:fence`,
    /** Hash {lsn, committedAt, updatedAt, transactions, changes, keys}. */
    checkpoint: `${p}checkpoint`,
    /** Hash {lastPollAt, lastSuccessAt, lagBytes, changesPerSecond, keysPerSecond}. */
    stats: `${p}stats`,
    /** Hash alert name -> JSON AlertState. */
    alerts: `${p}alerts`,
    /** Hash drift record name -> JSON object (lib/drift). */
    drift: `${p}drift`,
    /** Sorted set of bootstrap ids scored by start time (ms). */
    bootstraps: `${p}bootstraps`,
    /** Hash {index, lsn, total, startedAt, completedAt}. */
    bootstrap: (id: string) => `${p}bootstrap:${v.checkId("bootstrapId", id)}`,
    /** Hash range id -> JSON RangeProgress. */
    ranges: (id: string) => `${p}bootstrap:${v.checkId("bootstrapId", id)}:ranges`,
    /** Set of the range ids that are done. */
    done: (id: string) => `${p}bootstrap:${v.checkId("bootstrapId", id)}:done`,
  };
}

/** Options of {@link UpstashCheckpointStore}. */
export interface UpstashCheckpointOptions {
  /** `UPSTASH_REDIS_REST_URL`. */
  url: string;
  /** `UPSTASH_REDIS_REST_TOKEN`; never appears in errors. */
  token: string;
  /** A client for the same database; by default `new Redis({ url, token })` with default settings. */
  redis?: Redis;
  /** Clock for written times; replaceable in tests. */
  now?: () => Date;
}

/** Range ids per REGISTER_RANGES call: keeps each request small. */
const REGISTER_CHUNK = 1000;

/** {@link CheckpointStore} and {@link Lease} on Upstash Redis through its REST API (`@upstash/redis`). */
export class UpstashCheckpointStore implements CheckpointStore, Lease {
  private readonly redis: Redis;
  private readonly host: string;
  private readonly token: string;
  private readonly now: () => Date;

  constructor(options: UpstashCheckpointOptions) {
    this.token = options.token;
    this.host = hostOf(options.url);
    this.now = options.now ?? (() => new Date());
    this.redis = options.redis ?? new Redis({ url: options.url, token: options.token });
  }

  async acquire(slot: string, holderId: string, ttlMs: number): Promise<LeaseGrant | null> {
    const k = redisKeys(slot);
    if (!holderId) throw new CheckpointError("holder id must not be empty", { where: "holderId" });
    v.checkTtl(ttlMs);
    const at = this.now().toISOString();
    const token = Number(
      await this.eval("acquire", lua.ACQUIRE, [k.lease, k.fence], [holderId, String(ttlMs), at]),
    );
    return token > 0 ? { slot, holderId, token, ttlMs } : null;
  }

  async renew(lease: LeaseRef, ttlMs = lease.ttlMs): Promise<boolean> {
    const k = redisKeys(v.checkLease(lease).slot);
    const ok = await this.eval(
      "renew",
      lua.RENEW,
      [k.lease],
      [String(lease.token), String(v.checkTtl(ttlMs))],
    );
    return Number(ok) === 1;
  }

  async release(lease: LeaseRef): Promise<boolean> {
    const k = redisKeys(v.checkLease(lease).slot);
    return Number(await this.eval("release", lua.RELEASE, [k.lease], [String(lease.token)])) === 1;
  }

  async holder(slot: string): Promise<LeaseInfo | null> {
    const info = this.json(await this.eval("holder", lua.HOLDER, [redisKeys(slot).lease], [])) as {
      holder?: string;
      token?: string;
      pttl?: number;
    };
    if (info.holder === undefined) return null;
    return {
      holderId: String(info.holder),
      token: Number(info.token),
      expiresInMs: Math.max(0, Number(info.pttl)),
    };
  }

  async readCheckpoint(slot: string): Promise<Checkpoint | null> {
    const k = redisKeys(slot);
    const [h] = await this.readHashes([k.checkpoint]);
    if (!h || Object.keys(h).length === 0) return null;
    const cp: Checkpoint = {
      lsn: h.lsn ?? "",
      committedAt: h.committedAt || null,
      updatedAt: h.updatedAt ?? "",
      counts: { transactions: Number(h.transactions), changes: Number(h.changes), keys: Number(h.keys) },
    };
    try {
      return v.checkCheckpoint(cp);
    } catch (error) {
      return v.corrupt(k.checkpoint, (error as Error).message);
    }
  }

  async writeCheckpoint(lease: LeaseRef, checkpoint: Checkpoint): Promise<void> {
    const cp = v.checkCheckpoint(checkpoint);
    const fields = {
      lsn: cp.lsn,
      committedAt: cp.committedAt ?? "",
      updatedAt: cp.updatedAt,
      transactions: String(cp.counts.transactions),
      changes: String(cp.counts.changes),
      keys: String(cp.counts.keys),
    };
    await this.fenced(lease, redisKeys(lease.slot).checkpoint, "replace", fields);
  }

  async readStats(slot: string): Promise<PollerStats | null> {
    const [h] = await this.readHashes([redisKeys(slot).stats]);
    if (!h || Object.keys(h).length === 0) return null;
    const num = (text: string | undefined) => (text ? Number(text) : null);
    return {
      lastPollAt: h.lastPollAt || null,
      lastSuccessAt: h.lastSuccessAt || null,
      lagBytes: num(h.lagBytes),
      changesPerSecond: num(h.changesPerSecond),
      keysPerSecond: num(h.keysPerSecond),
    };
  }

  async writeStats(lease: LeaseRef, stats: Partial<PollerStats>): Promise<void> {
    const fields: Record<string, string> = {};
    // An empty string stores null: HSET cannot store a missing value, and no real value is empty.
    for (const [name, value] of Object.entries(v.checkStats(stats))) {
      if (value !== undefined) fields[name] = value === null ? "" : String(value);
    }
    await this.fenced(lease, redisKeys(lease.slot).stats, "merge", fields);
  }

  async beginBootstrap(slot: string, plan: BootstrapPlan): Promise<void> {
    const k = redisKeys(slot);
    v.checkLsn("plan.lsn", plan.lsn);
    const startedAt = v.checkTime("plan.startedAt", plan.startedAt ?? this.now().toISOString());
    if (!plan.index) throw new CheckpointError("index must not be empty", { where: "plan.index" });
    const rangeIds = [...new Set(plan.rangeIds.map(v.checkRangeId))];
    await this.eval(
      "beginBootstrap",
      lua.BEGIN_BOOTSTRAP,
      [k.bootstrap(plan.bootstrapId), k.bootstraps],
      [
        plan.bootstrapId,
        plan.index,
        plan.lsn,
        String(rangeIds.length),
        startedAt,
        String(Date.parse(startedAt)),
      ],
    );
    const pending = JSON.stringify({
      status: "pending",
      documents: 0,
      updatedAt: startedAt,
    } satisfies RangeProgress);
    for (let i = 0; i < rangeIds.length; i += REGISTER_CHUNK) {
      const chunk = rangeIds.slice(i, i + REGISTER_CHUNK);
      await this.eval(
        "registerRanges",
        lua.REGISTER_RANGES,
        [k.ranges(plan.bootstrapId)],
        [pending, ...chunk],
      );
    }
  }

  async markRange(
    slot: string,
    bootstrapId: string,
    rangeId: string,
    update: RangeUpdate,
  ): Promise<RangeMarkResult> {
    const k = redisKeys(slot);
    v.checkRangeId(rangeId);
    const at = v.checkRangeUpdate(update).at ?? this.now().toISOString();
    const reply = await this.eval(
      "markRange",
      lua.MARK_RANGE,
      [k.bootstrap(bootstrapId), k.ranges(bootstrapId), k.done(bootstrapId)],
      [rangeId, JSON.stringify(v.rangeRecord(update, at)), update.status, at],
    );
    const [applied, done, total, completed] = (reply as unknown[]).map(Number);
    return {
      applied: applied === 1,
      ...(applied === 0 ? { reason: "done-is-final" as const } : {}),
      ...(applied === -1 ? { reason: "unknown-bootstrap" as const } : {}),
      done: done ?? 0,
      total: total ?? 0,
      completed: completed === 1,
    };
  }

  async readBootstrap(slot: string, bootstrapId: string): Promise<BootstrapProgress | null> {
    const k = redisKeys(slot);
    const [meta, rangesRaw] = await this.readHashes([k.bootstrap(bootstrapId), k.ranges(bootstrapId)]);
    if (!meta || Object.keys(meta).length === 0) return null;
    const ranges: Record<string, RangeProgress> = {};
    for (const [id, value] of Object.entries(rangesRaw ?? {})) {
      ranges[id] = v.parseRange(k.ranges(bootstrapId), id, value);
    }
    return v.summarise(
      {
        bootstrapId,
        index: meta.index ?? "",
        lsn: meta.lsn ?? "",
        startedAt: meta.startedAt ?? "",
        completedAt: meta.completedAt || null,
        total: Number(meta.total ?? 0),
      },
      ranges,
    );
  }

  async listBootstraps(slot: string): Promise<string[]> {
    const ids = this.json(await this.eval("listBootstraps", lua.LIST, [redisKeys(slot).bootstraps], []));
    return Array.isArray(ids) ? ids.map(String).reverse() : [];
  }

  async readAlert(slot: string, name: string): Promise<AlertState | null> {
    const k = redisKeys(slot);
    const [alerts] = await this.readHashes([k.alerts]);
    const value = alerts?.[v.checkId("alert name", name)];
    return value === undefined ? null : v.parseAlert(`${k.alerts} ${name}`, value);
  }

  async writeAlert(slot: string, name: string, state: AlertState): Promise<void> {
    const k = redisKeys(slot);
    const value = JSON.stringify(v.checkAlert(state));
    await this.call("writeAlert", () =>
      this.redis.hset(k.alerts, { [v.checkId("alert name", name)]: value }),
    );
  }

  async readDrift(slot: string): Promise<Record<string, DriftRecord>> {
    const k = redisKeys(slot);
    const [records] = await this.readHashes([k.drift]);
    const out: Record<string, DriftRecord> = {};
    for (const [name, value] of Object.entries(records ?? {}))
      out[name] = v.parseDrift(`${k.drift} ${name}`, value);
    return out;
  }

  async writeDrift(slot: string, name: string, record: DriftRecord): Promise<void> {
    const k = redisKeys(slot);
    const value = v.checkDriftRecord(record);
    await this.call("writeDrift", () => this.redis.hset(k.drift, { [v.checkId("drift name", name)]: value }));
  }

  async clearDrift(slot: string, name?: string): Promise<void> {
    const k = redisKeys(slot);
    if (name === undefined) await this.call("clearDrift", () => this.redis.del(k.drift));
    else await this.call("clearDrift", () => this.redis.hdel(k.drift, v.checkId("drift name", name)));
  }

  async reset(slot: string): Promise<void> {
    const k = redisKeys(slot);
    // Two rounds: a bootstrap begun while the first DEL ran is caught by the second.
    for (let round = 0; round < 2; round++) {
      const ids = this.json(await this.eval("reset", lua.LIST, [k.bootstraps], []));
      const list = Array.isArray(ids) ? ids.map(String) : [];
      if (round > 0 && list.length === 0) break;
      const keys = [k.lease, k.checkpoint, k.stats, k.alerts, k.drift, k.bootstraps];
      for (const id of list) keys.push(k.bootstrap(id), k.ranges(id), k.done(id));
      await this.call("reset", () => this.redis.del(...keys));
    }
  }

  /** Runs the fenced write and turns a refusal into {@link LeaseLostError}. */
  private async fenced(
    lease: LeaseRef,
    key: string,
    mode: "replace" | "merge",
    fields: Record<string, string>,
  ) {
    const k = redisKeys(v.checkLease(lease).slot);
    const args = [String(lease.token), mode, ...Object.entries(fields).flat()];
    const result = Number(await this.eval("fenced write", lua.FENCED_HSET, [k.lease, key], args));
    if (result !== 0) throw new LeaseLostError(lease.slot, lease.token, result === -1 ? null : result);
  }

  private async readHashes(keys: string[]): Promise<Record<string, string>[]> {
    const out = this.json(await this.eval("read", lua.READ_HASHES, keys, []));
    // cjson writes an empty Lua table as {}: a single missing hash may come back as an object.
    return Array.isArray(out) ? (out as Record<string, string>[]) : keys.map(() => ({}));
  }

  /** A JSON reply: already parsed by the client's default deserialisation, or raw text without it. */
  private json(reply: unknown): unknown {
    if (typeof reply !== "string") return reply;
    try {
      return JSON.parse(reply);
    } catch {
      return v.corrupt("script reply", "not JSON");
    }
  }

  private eval(op: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.call(op, () => this.redis.eval(script, keys, args));
  }

  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.wrap(op, error);
    }
  }

  /** Maps a client error to {@link CheckpointError}: host named, token scrubbed, retryable when transient. */
  private wrap(op: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointError) return error;
    const scrub = (text: string) => (this.token ? text.split(this.token).join("***") : text);
    const name = (error as Error)?.name ?? "";
    // Upstash appends the whole command (scripts included) to its errors: keep only the reason.
    const detail = scrub(describeError(error))
      .replace(/, command was: [\s\S]*$/, "")
      .slice(0, 300);
    // The client cannot read the answer ("res.map is not a function", a JSON parse error): whatever
    // answered is not the Upstash REST API.
    if (error instanceof TypeError || error instanceof SyntaxError) {
      if (!/fetch failed/i.test(detail)) {
        return new CheckpointError(`${this.host} did not answer like the Upstash REST API (${op})`, {
          retryable: false,
          where: "UPSTASH_REDIS_REST_URL",
          fix: "set UPSTASH_REDIS_REST_URL to the database's REST URL from the Upstash console (https://<name>.upstash.io), not a redis:// URL or another server",
          cause: error,
        });
      }
    }
    if (name === "UpstashError" && /unauthori[sz]ed|WRONGPASS|NOAUTH|invalid token/i.test(detail)) {
      return new CheckpointError(`Upstash at ${this.host} refused the token (${op})`, {
        retryable: false,
        where: this.host,
        fix: "check UPSTASH_REDIS_REST_TOKEN for this database",
        cause: error,
      });
    }
    if (
      name === "UpstashError" &&
      !/LOADING|BUSY|TRYAGAIN|MASTERDOWN|timeout|Internal Server Error/i.test(detail)
    ) {
      return new CheckpointError(`Upstash at ${this.host} refused ${op}: ${detail}`, {
        retryable: false,
        where: this.host,
        cause: error,
      });
    }
    return new CheckpointError(`Upstash at ${this.host} is unreachable (${op}): ${detail}`, {
      retryable: true,
      where: this.host,
      fix: "check UPSTASH_REDIS_REST_URL and network access to it; the next run retries",
      cause: error,
    });
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw new CheckpointError("the Upstash REST URL is not a URL", {
      where: "UPSTASH_REDIS_REST_URL",
      fix: "set it to the https URL shown in the Upstash console",
    });
  }
}

/** The message of an error and its causes (fetch's own message is only "fetch failed"). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.includes(message)) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}
