/**
 * Adaptive `_bulk` sizing: the number of operations per request follows the engine's answers,
 * per index, with additive increase and multiplicative decrease (AIMD, as TCP does for its
 * window):
 *
 * - an answer in at most half the target latency, for a request that was full (as large as the
 *   size allowed), grows the size by a fixed step (a tenth of the starting size);
 * - an answer slower than the target shrinks it to what would have met the target, and at least
 *   halves it;
 * - a rejection for overload (HTTP 429, `es_rejected_execution_exception` on the request or on an
 *   item) or a timeout halves it;
 * - the size stays within 1 .. `maxChunkSize` (bytes are bounded separately, by `chunkBytes`).
 *
 * It also keeps a smoothed time per operation, so a caller can ask how many operations fit in
 * the time it has left and how long to let a request run. The state lives as long as the sink
 * (a warm Lambda container keeps it, so the next invocation starts from the learned size).
 */

/** Settings of {@link AdaptiveSizer}. */
export interface AdaptiveSettings {
  /** The size every index starts with (`ELASTICSEARCH_CHUNK_SIZE`). */
  startSize: number;
  /** The largest size it may grow to (`ELASTICSEARCH_MAX_CHUNK_SIZE`). */
  maxSize: number;
  /** The answer time to aim for, in ms (`ELASTICSEARCH_BULK_TARGET_SECONDS`). */
  targetLatencyMs: number;
}

/** What one `_bulk` request told about the engine. */
export interface BulkObservation {
  /** Operations in the request. */
  operations: number;
  /** True when the request was as large as the size allowed (not cut by bytes, time or the batch's end). */
  full: boolean;
  /** Time from sending to the answer, in ms. */
  latencyMs: number;
  /** The engine pushed back: a 429 for the request or for any item. */
  throttled: boolean;
  /** No answer in time. */
  timedOut: boolean;
  /**
   * The timeout was the time left before the caller's deadline, shorter than the engine was
   * given otherwise: the answer time says only "at least this slow", and the size is kept.
   */
  cutByDeadline?: boolean;
}

/** The state of one index. */
interface IndexState {
  size: number;
  /** Smoothed ms per operation; undefined until the first answer. */
  msPerOperation: number | undefined;
  /** Ms per operation of the latest answer. */
  lastPerOperation: number;
}

/** Weight of the newest answer in the smoothed time per operation. */
const SMOOTHING = 0.5;
/** Share of the time left a request may be planned to use: keeps room for a slower answer. */
const PLAN_SHARE = 0.8;
/** A request may run this many times its predicted time before the timeout ends it. */
const TIMEOUT_FACTOR = 3;

/** Per-index adaptive sizes; see the module comment. */
export class AdaptiveSizer {
  private readonly states = new Map<string, IndexState>();
  private readonly step: number;

  constructor(readonly settings: AdaptiveSettings) {
    this.step = Math.max(1, Math.ceil(settings.startSize / 10));
  }

  /** The size to use for the next request to `index`. */
  sizeFor(index: string): number {
    return this.state(index).size;
  }

  /**
   * Predicted answer time of a request of `operations` to `index`, or undefined before any answer:
   * the slower of the smoothed and the latest time per operation, so a slowing engine is not
   * underestimated while the average catches up.
   */
  predictMs(index: string, operations: number): number | undefined {
    const per = this.perOperation(index);
    return per === undefined ? undefined : per * operations;
  }

  /**
   * How many operations of `index` fit in `remainingMs`, planning to use at most 80 % of it:
   * `wanted` when nothing is known yet (the first request finds out), otherwise possibly 0,
   * meaning a request started now would not finish in time.
   */
  fit(index: string, wanted: number, remainingMs: number): number {
    const per = this.perOperation(index);
    if (per === undefined || per <= 0) return wanted;
    return Math.max(0, Math.min(wanted, Math.floor((remainingMs * PLAN_SHARE) / per)));
  }

  /**
   * The timeout for a request of `operations` to `index`: three times its predicted time but at
   * least `floorMs` (the configured request timeout; alone while nothing is known yet), and never
   * past the time left. A request that timed out raises the prediction, so the next one waits
   * longer: on a slow engine the timeouts follow its answer times instead of cutting every request.
   */
  timeoutMs(index: string, operations: number, remainingMs: number, floorMs: number): number {
    const predicted = this.predictMs(index, operations) ?? 0;
    return Math.max(1, Math.floor(Math.min(remainingMs, Math.max(floorMs, predicted * TIMEOUT_FACTOR))));
  }

  /** Learns from one request's answer (or its absence). */
  observe(index: string, seen: BulkObservation): void {
    const state = this.state(index);
    const { maxSize, targetLatencyMs } = this.settings;
    const per = seen.operations > 0 ? seen.latencyMs / seen.operations : undefined;
    if (per !== undefined && !seen.timedOut) {
      state.msPerOperation =
        state.msPerOperation === undefined ? per : SMOOTHING * per + (1 - SMOOTHING) * state.msPerOperation;
      state.lastPerOperation = per;
    }
    if (per !== undefined && seen.timedOut) {
      // At least this slow: the timeout passed without an answer.
      state.msPerOperation = Math.max(state.msPerOperation ?? 0, per);
      state.lastPerOperation = Math.max(state.lastPerOperation, per);
    }
    // The caller's deadline cut the request short: nothing learnt about the right size.
    if (seen.timedOut && seen.cutByDeadline) return;
    let size = state.size;
    if (seen.throttled || seen.timedOut) {
      size = Math.floor(Math.min(size, seen.operations) / 2);
    } else if (seen.latencyMs > targetLatencyMs) {
      const meets = Math.floor((seen.operations * targetLatencyMs) / seen.latencyMs);
      size = Math.min(Math.floor(size / 2), meets);
    } else if (seen.full && seen.latencyMs <= targetLatencyMs / 2) {
      size += this.step;
    }
    state.size = Math.max(1, Math.min(maxSize, size));
  }

  /** Every index's current size, for logs and metrics. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.states].map(([index, s]) => [index, s.size]));
  }

  private perOperation(index: string): number | undefined {
    const state = this.state(index);
    return state.msPerOperation === undefined
      ? undefined
      : Math.max(state.msPerOperation, state.lastPerOperation);
  }

  private state(index: string): IndexState {
    let state = this.states.get(index);
    if (!state) {
      state = {
        size: Math.max(1, Math.min(this.settings.maxSize, this.settings.startSize)),
        msPerOperation: undefined,
        lastPerOperation: 0,
      };
      this.states.set(index, state);
    }
    return state;
  }
}
