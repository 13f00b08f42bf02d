import type { BootstrapProgress } from "../checkpoint";
import { type CompletionOptions, completeBootstrap } from "./complete";
import { readIndexRecord } from "./record";
import type { CompletionDeps } from "./types";

/** One progress reading of one copy, for a progress bar. */
export interface ProgressUpdate {
  index: string;
  bootstrapId: string;
  total: number;
  done: number;
  failed: number;
  documents: number;
  elapsedMs: number;
  /** Over the last `windowMs`; null until two readings apart in time exist. */
  documentsPerSecond: number | null;
  /** Remaining ranges at the recent range rate; null while nothing was done recently. */
  etaMs: number | null;
  /** `serving` once the alias points at the copy. */
  state: "copying" | "serving";
}

interface Sample {
  at: number;
  done: number;
  documents: number;
}

/**
 * Turns successive progress readings into rates: documents per second and time left over a
 * sliding window, so the estimate follows the consumers' current speed rather than the average
 * since the start (which includes queueing and warm-up).
 */
export class ProgressMeter {
  private readonly samples: Sample[] = [];

  constructor(private readonly windowMs = 30_000) {}

  update(progress: Pick<BootstrapProgress, "done" | "total" | "documents" | "startedAt">, at: number) {
    this.samples.push({ at, done: progress.done, documents: progress.documents });
    while (this.samples.length > 2 && at - (this.samples[1]?.at ?? at) >= this.windowMs) this.samples.shift();
    const first = this.samples[0] as Sample;
    const seconds = (at - first.at) / 1000;
    const documentsPerSecond = seconds > 0 ? (progress.documents - first.documents) / seconds : null;
    const rangesPerMs = at > first.at ? (progress.done - first.done) / (at - first.at) : 0;
    const remaining = progress.total - progress.done;
    const etaMs = remaining === 0 ? 0 : rangesPerMs > 0 ? Math.round(remaining / rangesPerMs) : null;
    const started = Date.parse(progress.startedAt);
    return {
      documentsPerSecond: documentsPerSecond === null ? null : Math.round(documentsPerSecond),
      etaMs,
      elapsedMs: Number.isNaN(started) ? 0 : Math.max(0, at - started),
    };
  }
}

export interface WatchOptions extends CompletionOptions {
  onProgress?: (updates: ProgressUpdate[]) => void;
  /** Between readings (default 2000 ms). */
  intervalMs?: number;
  /** Switch the alias when all ranges are done (default true; idempotent with the consumers' rangeDone). */
  complete?: boolean;
  /** Give up after this long (default: never). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Follows copies until each is served (or the timeout or signal ends the wait), reporting
 * progress after every reading: `slotsync bootstrap` draws its progress bar from it.
 * Returns the last readings.
 */
export async function watchBootstrap(
  deps: CompletionDeps,
  copies: readonly { index: string; bootstrapId: string }[],
  options: WatchOptions = {},
): Promise<ProgressUpdate[]> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const meters = new Map(copies.map((c) => [c.bootstrapId, new ProgressMeter()]));
  const serving = new Set<string>();
  const giveUpAt = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : now() + options.timeoutMs;
  let last: ProgressUpdate[] = [];
  for (;;) {
    const updates: ProgressUpdate[] = [];
    for (const copy of copies) {
      const progress = await deps.store.readBootstrap(deps.slot, copy.bootstrapId);
      if (!progress) continue;
      const allDone = progress.total > 0 && progress.done >= progress.total;
      if (allDone && !serving.has(copy.bootstrapId)) {
        if (options.complete ?? true) {
          const result = await completeBootstrap(deps, copy.bootstrapId, options);
          if (result.state === "serving" || result.state === "superseded") serving.add(copy.bootstrapId);
        } else {
          // Someone else (the consumers' rangeDone) switches it.
          const record = await readIndexRecord(deps.store, deps.slot, copy.index);
          if (record.building?.bootstrapId !== copy.bootstrapId) serving.add(copy.bootstrapId);
        }
      }
      const rates = (meters.get(copy.bootstrapId) ?? new ProgressMeter()).update(progress, now());
      updates.push({
        index: copy.index,
        bootstrapId: copy.bootstrapId,
        total: progress.total,
        done: progress.done,
        failed: progress.failed,
        documents: progress.documents,
        ...rates,
        state: serving.has(copy.bootstrapId) ? "serving" : "copying",
      });
    }
    last = updates;
    options.onProgress?.(updates);
    // A copy with failed ranges and nothing else left to do cannot finish until it is resumed.
    const stuck = (c: { bootstrapId: string }) => {
      const u = updates.find((x) => x.bootstrapId === c.bootstrapId);
      return u !== undefined && u.failed > 0 && u.done + u.failed >= u.total;
    };
    const finished = copies.every((c) => serving.has(c.bootstrapId) || stuck(c));
    if (finished || options.signal?.aborted || now() >= giveUpAt) return last;
    await sleep(options.intervalMs ?? 2000);
  }
}
