import { backoffDelay, type SinkRuntime } from "./backoff";
import type {
  OutcomeStatus,
  SinkOutcome,
  StreamOperation,
  WriteOptions,
  WriteResult,
  WriteStats,
} from "./types";

/** The error type of operations a write did not send because its deadline left no time for them. */
export const DEADLINE_ERROR = "deadline";

/** Starting a request with less time than this left is pointless: it would only time out. */
export const MIN_REQUEST_MS = 50;

/** Why an operation is not written (yet): what the receiver or the network said. */
export interface Failure {
  httpStatus?: number;
  errorType?: string;
  reason: string;
}

/** The retry settings every HTTP sink has. */
export interface RetryTuning {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The bookkeeping one `write` call shares with every other sink's: an outcome and an attempt
 * count per operation, the deadline (the caller's or the sink's `writeDeadlineMs`, the earlier),
 * the request counters, the retry backoff, and the counters at the end. A sink's write encodes,
 * sends and reads answers; the ledger records what happened, so the `WriteResult` of every sink
 * means the same.
 */
export class WriteLedger<O extends StreamOperation> {
  readonly started: number;
  readonly deadline: number;
  /** Requests sent, retries and splits included. */
  requests = 0;
  /** Request body bytes sent, retries included. */
  bytes = 0;
  /** Operations sent again after a retryable failure. */
  retried = 0;
  private readonly outcomes: (SinkOutcome<O> | undefined)[];
  private readonly attempts: number[];

  /**
   * @param clean removes secrets from a reason before it reaches an outcome
   */
  constructor(
    readonly ops: readonly O[],
    private readonly runtime: SinkRuntime,
    options: WriteOptions & { writeDeadlineMs: number },
    private readonly clean: (text: string) => string = (text) => text,
  ) {
    this.outcomes = new Array(ops.length).fill(undefined);
    this.attempts = new Array(ops.length).fill(0);
    this.started = runtime.now();
    this.deadline = Math.min(
      options.deadline ?? Number.POSITIVE_INFINITY,
      this.started + options.writeDeadlineMs,
    );
  }

  /** Milliseconds left before the deadline. */
  remaining(): number {
    return this.deadline - this.runtime.now();
  }

  /** Counts one request carrying the operations at `positions`: one more attempt each. */
  sending(positions: readonly number[], bytes: number): void {
    for (const i of positions) this.attempts[i] = (this.attempts[i] ?? 0) + 1;
    this.requests++;
    this.bytes += bytes;
  }

  /** How many times the operation at `i` was sent. */
  attemptsOf(i: number): number {
    return this.attempts[i] ?? 0;
  }

  /** Gives the operations at `positions` their final outcome (reasons cleaned of secrets). */
  finish(positions: number | readonly number[], status: OutcomeStatus, detail: Partial<Failure> = {}): void {
    for (const i of typeof positions === "number" ? [positions] : positions) {
      const op = this.ops[i];
      if (!op) continue;
      const outcome: SinkOutcome<O> = { op, status, attempts: this.attempts[i] ?? 0 };
      if (detail.httpStatus !== undefined) outcome.httpStatus = detail.httpStatus;
      if (detail.errorType !== undefined) outcome.errorType = detail.errorType;
      if (detail.reason) outcome.reason = this.clean(detail.reason);
      this.outcomes[i] = outcome;
    }
  }

  /** The outcome recorded for the operation at `i`, if any. */
  outcomeOf(i: number): SinkOutcome<O> | undefined {
    return this.outcomes[i];
  }

  /**
   * Ends the operations at `positions` as `retryable` with their last failure, how often each was
   * sent and `why` no further try is made ("no retries left", "the write deadline came first").
   */
  giveUp(positions: readonly number[], last: Failure | undefined, why: string): void {
    const failure = last ?? { errorType: "unknown", reason: "unknown failure" };
    for (const i of positions) {
      const n = this.attempts[i] ?? 0;
      this.finish(i, "retryable", {
        ...failure,
        reason: `${failure.reason || `HTTP ${failure.httpStatus}`} (sent ${n} time${n === 1 ? "" : "s"}; ${why})`,
      });
    }
  }

  /**
   * The wait before retry round `round` (0 for the first retry): full-jitter backoff, at least
   * `retryAfterMs` (the receiver's `Retry-After`). Undefined when no retries are left or another
   * try could not start before the deadline; `stop` says which.
   */
  nextRetry(
    round: number,
    tuning: RetryTuning,
    retryAfterMs = 0,
  ): { waitMs: number } | { stop: "retries" | "deadline" } {
    if (round >= tuning.maxRetries) return { stop: "retries" };
    const waitMs = Math.max(
      retryAfterMs,
      backoffDelay(round, tuning.baseDelayMs, tuning.maxDelayMs, this.runtime.random),
    );
    if (this.runtime.now() + waitMs + MIN_REQUEST_MS > this.deadline) return { stop: "deadline" };
    return { waitMs };
  }

  /** Waits before a retry of `operations` operations, and counts them as retried. */
  async backOff(waitMs: number, operations: number): Promise<void> {
    await this.runtime.sleep(waitMs);
    this.retried += operations;
  }

  /**
   * The outcomes in order and the counters; `extra` adds the sink's own counters. A position
   * without an outcome (a bug) shows up as `retryable` with a reason instead of a hole.
   */
  result(extra: Partial<WriteStats> = {}): WriteResult<O> {
    const outcomes = this.outcomes.map(
      (outcome, i): SinkOutcome<O> =>
        outcome ?? {
          op: this.ops[i] as O,
          status: "retryable",
          errorType: "internal",
          reason: "no outcome recorded",
          attempts: 0,
        },
    );
    const stats: WriteStats = {
      operations: outcomes.length,
      indexed: 0,
      deleted: 0,
      stale: 0,
      rejected: 0,
      retryable: 0,
      retried: this.retried,
      requests: this.requests,
      bytes: this.bytes,
      durationMs: this.runtime.now() - this.started,
      ...extra,
    };
    for (const outcome of outcomes) {
      if (outcome.status !== "ok") stats[outcome.status]++;
      // A truncate counts as a delete: it removes documents.
      else if (outcome.op.kind === "index") stats.indexed++;
      else stats.deleted++;
    }
    return { outcomes, stats };
  }
}
