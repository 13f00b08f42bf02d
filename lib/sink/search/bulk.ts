import { redactText } from "../../security";
import type { SinkRuntime } from "../backoff";
import type { SinkOperation, WriteOptions, WriteResult } from "../types";
import { DEADLINE_ERROR, type Failure, MIN_REQUEST_MS, WriteLedger } from "../write-core";
import type { AdaptiveSizer } from "./adaptive";
import { type EncodedOperation, encodeOperation } from "./bulk-encoding";
import { bulkAuthError, bulkError, sharedFailure } from "./bulk-errors";
import {
  classifyItem,
  classifyRequestStatus,
  describeError,
  formatError,
  type ItemVerdict,
  WRONG_ENGINE_FIX,
} from "./classify";
import type { ResolvedTuning } from "./config";
import { type EngineResponse, type EngineTransport, TransportFailure } from "./transport";

/**
 * What a `_bulk` answer is read for: each item's status, result (a delete of a missing document
 * is `not_found`) and error. The engine leaves out the rest (index, id, version, shards, seq_no),
 * three quarters of the answer, which the client would otherwise parse for every document.
 */
const BULK_RESPONSE_FILTER = { filter_path: "errors,items.*.status,items.*.result,items.*.error" };

/** What `writeBulk` needs: a transport, the tuning, the clock, and the adaptive sizes when on. */
export interface BulkContext {
  transport: EngineTransport;
  tuning: ResolvedTuning;
  runtime: SinkRuntime;
  /** Per-index request sizes learned from the engine's answers; fixed `chunkSize` without. */
  sizer?: AdaptiveSizer;
}

/**
 * Writes `ops` with `_bulk`, external_gte versioning, chunking by count and bytes, and retry
 * rounds with full-jitter backoff until everything has a final outcome, the retries run out, or
 * the deadline comes. See `DocumentWriter.write` for the contract.
 *
 * Resending is always safe: with external versions an operation applied twice (a timeout after
 * the engine did the work) is either `ok` again (equal version) or `stale`, never a regression.
 */
export async function writeBulk<O extends SinkOperation>(
  ctx: BulkContext,
  ops: readonly O[],
  options: WriteOptions = {},
): Promise<WriteResult<O>> {
  return new BulkWrite(ctx, ops, options).run();
}

/** The failure recorded for operations not sent because an earlier request of the round failed. */
function heldBack(failure: Failure): Failure {
  return { ...failure, reason: `not sent after a failed request: ${failure.reason}` };
}

class BulkWrite<O extends SinkOperation> {
  private readonly ledger: WriteLedger<O>;
  private readonly lastFailure: (Failure | undefined)[];
  private readonly fatal: (ItemVerdict["fatal"] | undefined)[];
  private readonly encoded: (EncodedOperation | undefined)[];
  private readonly sizes: number[];
  private latencyMs = 0;
  private throttledRequests = 0;

  constructor(
    private readonly ctx: BulkContext,
    private readonly ops: readonly O[],
    options: WriteOptions,
  ) {
    const n = ops.length;
    this.ledger = new WriteLedger(
      ops,
      ctx.runtime,
      { ...options, writeDeadlineMs: ctx.tuning.writeDeadlineMs },
      (text) => redactText(text, ctx.transport.secrets),
    );
    this.lastFailure = new Array(n).fill(undefined);
    this.fatal = new Array(n).fill(undefined);
    this.encoded = new Array(n).fill(undefined);
    this.sizes = new Array(n).fill(0);
  }

  async run(): Promise<WriteResult<O>> {
    const { tuning } = this.ctx;
    const ledger = this.ledger;
    let pending: number[] = [];
    this.ops.forEach((op, i) => {
      const encoded = encodeOperation(op);
      if ("invalid" in encoded) {
        ledger.finish(i, "rejected", { errorType: "invalid_operation", reason: encoded.invalid });
      } else {
        this.encoded[i] = encoded;
        this.sizes[i] = encoded.bytes;
        pending.push(i);
      }
    });

    for (let round = 0; pending.length > 0; round++) {
      const retry: number[] = [];
      // After a whole request failed (overload, timeout), the rest of the round waits for the
      // backoff too instead of hitting a struggling cluster with the next chunks right away.
      let holdBack: Failure | undefined;
      let outOfTime = false;
      for (const [index, positions] of byIndex(this.ops, pending)) {
        for (let from = 0; from < positions.length; ) {
          if (outOfTime || holdBack) {
            const rest = positions.slice(from);
            if (outOfTime) this.defer(rest);
            else this.toRetry(rest, retry, holdBack as Failure);
            break;
          }
          const planned = this.nextChunk(index, positions, from);
          if (planned.chunk.length === 0) {
            outOfTime = true;
            continue;
          }
          from += planned.chunk.length;
          holdBack = await this.send(planned.chunk, retry, index, planned.full);
        }
      }
      if (retry.length === 0) break;
      const next = ledger.nextRetry(round, tuning);
      if ("stop" in next) {
        if (next.stop === "retries") this.giveUp(retry, "no retries left");
        else this.defer(retry);
        break;
      }
      await ledger.backOff(next.waitMs, retry.length);
      pending = retry;
    }
    this.throwIfNothingCanSucceed();
    return ledger.result({
      requestMs: this.latencyMs,
      throttledRequests: this.throttledRequests,
      chunkSize: this.chunkSizeInUse(),
    });
  }

  /**
   * The next request for `index` from `positions[from..]`: at most the (adaptive or fixed) count
   * and `chunkBytes`, and with adaptive sizing no more than fits in the time left. Empty when no
   * request can finish before the deadline: those operations are not started at all.
   */
  private nextChunk(
    index: string,
    positions: readonly number[],
    from: number,
  ): { chunk: number[]; full: boolean } {
    const { tuning, sizer } = this.ctx;
    const remaining = this.ledger.remaining();
    if (remaining < MIN_REQUEST_MS) return { chunk: [], full: false };
    const size = sizer ? sizer.sizeFor(index) : tuning.chunkSize;
    const count = sizer ? sizer.fit(index, size, remaining - MIN_REQUEST_MS) : size;
    if (count < 1) return { chunk: [], full: false };
    const chunk: number[] = [];
    let bytes = 0;
    for (let k = from; k < positions.length && chunk.length < count; k++) {
      const pos = positions[k] as number;
      const next = this.sizes[pos] ?? 0;
      // An operation larger than chunkBytes on its own still goes, alone.
      if (chunk.length > 0 && bytes + next > tuning.chunkBytes) break;
      chunk.push(pos);
      bytes += next;
    }
    return { chunk, full: chunk.length >= size };
  }

  /** Operations never sent because the deadline left no time: retryable, with nothing burnt. */
  private defer(positions: readonly number[]): void {
    for (const i of positions) {
      const sent = this.ledger.attemptsOf(i);
      const last = this.lastFailure[i];
      this.ledger.finish(i, "retryable", {
        ...(last ?? {}),
        // Never sent (or cut by the deadline): the deadline's doing. Sent and refused: the refusal.
        errorType: sent === 0 || !last?.errorType ? DEADLINE_ERROR : last.errorType,
        reason:
          sent === 0
            ? "not sent: the write deadline left no time for this request"
            : `${last?.reason ?? "failed"} (sent ${sent} time${sent === 1 ? "" : "s"}; the write deadline left no time for another try)`,
      });
    }
  }

  /**
   * Sends one chunk; splits it while the engine refuses it whole (400, 413). Returns what to
   * record for the unsent rest of the round when the request as a whole failed retryably.
   */
  private async send(
    chunk: number[],
    retry: number[],
    index: string,
    full: boolean,
  ): Promise<Failure | undefined> {
    const { transport, tuning, runtime, sizer } = this.ctx;
    const queue: number[][] = [chunk];
    for (let part = queue.shift(); part !== undefined; part = queue.shift()) {
      const remaining = this.ledger.remaining();
      if (remaining < MIN_REQUEST_MS) {
        this.defer(part);
        continue;
      }
      let body = "";
      let bytes = 0;
      for (const i of part) {
        body += this.encoded[i]?.text ?? "";
        bytes += this.sizes[i] ?? 0;
      }
      this.ledger.sending(part, bytes);
      const timeoutMs = sizer
        ? sizer.timeoutMs(index, part.length, remaining, tuning.requestTimeoutMs)
        : Math.min(tuning.requestTimeoutMs, remaining);
      const sentAt = runtime.now();
      let response: EngineResponse;
      try {
        response = await transport.request({
          method: "POST",
          path: "/_bulk",
          querystring: BULK_RESPONSE_FILTER,
          ndjson: body,
          timeoutMs,
        });
      } catch (err) {
        if (!(err instanceof TransportFailure)) throw err;
        const latencyMs = runtime.now() - sentAt;
        this.latencyMs += latencyMs;
        // A timeout the deadline imposed is the deadline's doing, not the engine failing.
        const cut = err.kind === "timeout" && timeoutMs >= remaining;
        sizer?.observe(index, {
          operations: part.length,
          full,
          latencyMs,
          throttled: false,
          timedOut: err.kind === "timeout",
          cutByDeadline: cut,
        });
        const failure = {
          errorType: cut ? DEADLINE_ERROR : err.kind,
          reason: redactText(err.message, transport.secrets),
        };
        this.toRetry(part, retry, failure);
        this.toRetry(queue.flat(), retry, heldBack(failure));
        return heldBack(failure);
      }
      const latencyMs = runtime.now() - sentAt;
      this.latencyMs += latencyMs;
      const throttled = response.status === 429 || hasThrottledItem(response.body);
      if (throttled) this.throttledRequests++;
      sizer?.observe(index, { operations: part.length, full, latencyMs, throttled, timedOut: false });
      const described = () => describeError(response.body);
      switch (classifyRequestStatus(response.status)) {
        case "items":
          this.readItems(part, response.body, retry);
          break;
        case "retry": {
          const error = described();
          const failure = { httpStatus: response.status, errorType: error.type, reason: error.reason };
          this.toRetry(part, retry, failure);
          this.toRetry(queue.flat(), retry, heldBack(failure));
          return heldBack(failure);
        }
        case "split":
          if (part.length > 1) {
            const mid = Math.ceil(part.length / 2);
            queue.unshift(part.slice(0, mid), part.slice(mid));
          } else {
            this.rejectAlone(part[0] ?? 0, response);
          }
          break;
        case "auth":
          throw bulkAuthError(response, transport.secrets);
        case "fatal":
          throw bulkError(
            transport.secrets,
            `the search engine answered the bulk request with HTTP ${response.status}: ${formatError(described())}`,
            response.status,
            response.status === 406
              ? WRONG_ENGINE_FIX
              : "check the node URL (and any proxy in front of the cluster) and that the engine is Elasticsearch 8/9 or OpenSearch 2",
            response.status === 406 ? "not_acceptable" : undefined,
          );
      }
    }
    return undefined;
  }

  private readItems(part: number[], body: unknown, retry: number[]): void {
    const items = (body as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items) || items.length !== part.length) {
      const got = Array.isArray(items) ? items.length : "no";
      this.toRetry(part, retry, {
        errorType: "unexpected_response",
        reason: `the bulk response had ${got} items for ${part.length} operations`,
      });
      return;
    }
    part.forEach((i, k) => {
      const verdict = classifyItem(items[k]);
      const failure = {
        httpStatus: verdict.httpStatus,
        errorType: verdict.errorType,
        reason: verdict.reason ?? "",
      };
      if (verdict.status === "retry") {
        this.toRetry([i], retry, failure);
        return;
      }
      this.fatal[i] = verdict.fatal;
      this.ledger.finish(
        i,
        verdict.status,
        verdict.status === "ok" ? { httpStatus: verdict.httpStatus } : failure,
      );
    });
  }

  /** A single operation the engine refuses as a request of its own: it can never go through. */
  private rejectAlone(i: number, response: EngineResponse): void {
    const op = this.ops[i];
    const error = describeError(response.body);
    if (response.status === 413 && op) {
      const size = this.sizes[i] ?? 0;
      this.ledger.finish(i, "rejected", {
        httpStatus: 413,
        errorType: "request_entity_too_large",
        reason:
          `document "${op.id}" for index "${op.index}" is ${size} bytes in bulk form, more than the engine ` +
          `accepts in one request (HTTP 413). Fix: leave large columns out of the document in the schema, ` +
          `or raise http.max_content_length (on Amazon OpenSearch Service: pick an instance type with a larger limit)`,
      });
      return;
    }
    this.ledger.finish(i, "rejected", {
      httpStatus: response.status,
      errorType: error.type,
      reason: formatError(error) || `HTTP ${response.status}`,
    });
  }

  private toRetry(part: readonly number[], retry: number[], failure: Failure): void {
    for (const i of part) {
      this.lastFailure[i] = failure;
      retry.push(i);
    }
  }

  private giveUp(positions: readonly number[], why: string): void {
    for (const i of positions) this.ledger.giveUp([i], this.lastFailure[i], why);
  }

  /** Throws when every operation failed for a reason shared by the whole batch. */
  private throwIfNothingCanSucceed(): void {
    const outcomes = this.ops.map((_, i) => this.ledger.outcomeOf(i));
    const shared = sharedFailure(this.ops, outcomes, this.fatal, this.ctx.transport.secrets);
    if (shared) throw shared;
  }

  /** Operations per request in use at the end: the smallest adaptive size of the indices written. */
  private chunkSizeInUse(): number {
    const sizes = this.ctx.sizer?.sizes();
    const used = sizes
      ? [...new Set(this.ops.map((op) => sizes[op.index]))].filter((n) => n !== undefined)
      : [];
    return used.length > 0 ? Math.min(...(used as number[])) : this.ctx.tuning.chunkSize;
  }
}

/** Pending positions grouped by target index, in first-seen order (each index has its own size). */
function byIndex(ops: readonly SinkOperation[], pending: readonly number[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const i of pending) {
    const index = ops[i]?.index ?? "";
    const list = groups.get(index);
    if (list) list.push(i);
    else groups.set(index, [i]);
  }
  return groups;
}

/** True when a `_bulk` answer has an item refused for overload (429). */
function hasThrottledItem(body: unknown): boolean {
  const items = (body as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items)) return false;
  return items.some((item) => {
    if (item === null || typeof item !== "object") return false;
    const result = Object.values(item)[0] as { status?: unknown } | undefined;
    return result?.status === 429;
  });
}
