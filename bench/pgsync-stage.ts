/**
 * PGSync's steady state as a stage of `npm run bench` and as `--only pgsync`: the lock, databases
 * and index cleanup around bench/pgsync-steady.ts, and `--only pgsync`'s result files.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client as Elastic } from "@elastic/elasticsearch";
import type { ensureServices } from "../tools/services";
import { BENCH_PGSYNC_LOCK, BENCH_PGSYNC_REDIS_DB, lockFile } from "./pgsync";
import { pgsyncMarkdown, pgsyncRatios } from "./pgsync-report";
import {
  benchPgsyncSteady,
  PGSYNC_VARIANTS,
  type PgsyncSteadyResult,
  type PgsyncVariant,
  pgsyncPlans,
} from "./pgsync-steady";
import type { BenchResult } from "./report";
import { dropDatabase } from "./seed";

export interface PgsyncStageOptions {
  venv: Parameters<typeof benchPgsyncSteady>[0]["venv"];
  endpoints: Awaited<ReturnType<typeof ensureServices>>["endpoints"];
  elastic: Elastic;
  /** Elasticsearch as PGSync reaches it (the proxy answering `GET /`). */
  esUrl: string;
  work: string;
  /** Database and index name prefix, unique to the run. */
  prefix: string;
  books: number;
  stepSeconds: number;
  lagLimitSeconds: number;
  /** Comma-separated tuning names, "all", or names per variant. */
  tunings: string | Record<PgsyncVariant, string[]>;
  /** One variant only, when set. */
  variant?: string;
  /** The caller's cleanups, run on the way out (also when interrupted). */
  cleanups: (() => Promise<unknown>)[];
  log: (line: string) => void;
}

/**
 * PGSync's steady state on its own databases, index and Redis database, holding the benchmark's
 * PGSync lock throughout (another run waits for it, at most 15 minutes).
 */
export async function pgsyncSteadyStage(o: PgsyncStageOptions): Promise<PgsyncSteadyResult> {
  const variants = PGSYNC_VARIANTS.filter((v) => !o.variant || o.variant === v);
  if (variants.length === 0)
    throw new Error(`--pgsync-variant ${o.variant}: choose ${PGSYNC_VARIANTS.join(" or ")}`);
  const names = typeof o.tunings === "string" && o.tunings !== "all" ? o.tunings.split(",") : undefined;
  const plans = pgsyncPlans(
    names
      ? { "through-child": names, "no-through-child": names }
      : (o.tunings as Record<PgsyncVariant, string[]>),
    variants,
  );
  const es = o.endpoints.elasticsearch;
  const superUrl = o.endpoints.postgres.url;
  const lock = await lockFile(BENCH_PGSYNC_LOCK, 900, o.log);
  o.cleanups.push(async () => lock.release());
  o.cleanups.push(() =>
    o.elastic.indices.delete({ index: `${o.prefix}*`, allow_no_indices: true }).catch(() => undefined),
  );
  try {
    return await benchPgsyncSteady({
      venv: o.venv,
      superUrl,
      pg: o.endpoints.postgres,
      es: {
        host: "127.0.0.1",
        port: Number(new URL(o.esUrl).port),
        user: es.username,
        password: es.password,
      },
      redis: { host: o.endpoints.redis.host, port: o.endpoints.redis.port, db: BENCH_PGSYNC_REDIS_DB },
      elastic: o.elastic,
      lock,
      dir: join(o.work, "pgsync-steady"),
      prefix: o.prefix,
      books: o.books,
      plans,
      stepSeconds: o.stepSeconds,
      lagLimitSeconds: o.lagLimitSeconds,
      drainCapSeconds: 60,
      onDatabase: (database) => o.cleanups.push(() => dropSoon(superUrl, database)),
      onCleanup: (cleanup) => o.cleanups.push(cleanup),
      log: o.log,
    });
  } finally {
    lock.release();
  }
}

/**
 * Drops `database`, trying again for a while: a PGSync daemon just stopped may leave a backend
 * still reading its replication slot, and PostgreSQL refuses to drop a database whose slot is active.
 */
async function dropSoon(superUrl: string, database: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dropDatabase(superUrl, database);
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/**
 * Writes `--only pgsync`'s bench/results/pgsync.{json,md}, with slotsync's ratio to each figure
 * taken against the last full run's slotsync figure (bench/results/latest.json: same machine, load
 * and rule, 1,000,000 books), since slotsync is not measured in this mode.
 */
export function writePgsyncResult(root: string, result: PgsyncSteadyResult, command: string): void {
  const dir = join(root, "bench", "results");
  const latest = JSON.parse(readFileSync(join(dir, "latest.json"), "utf8")) as BenchResult;
  const slotsync = {
    sustained: latest.steady.slotsync.sustained,
    date: latest.date,
    books: latest.bootstrap.rows,
  };
  const out = {
    at: new Date().toISOString(),
    command,
    slotsync,
    ratios: pgsyncRatios(slotsync.sustained, result),
    ...result,
  };
  writeFileSync(join(dir, "pgsync.json"), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(dir, "pgsync.md"), pgsyncMarkdown(result, slotsync));
}
