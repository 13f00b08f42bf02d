import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { redactText } from "../../security";
import { type SinkRuntime, systemRuntime } from "../backoff";
import type { StreamSink } from "../contract";
import { SinkError } from "../errors";
import type { StreamOperation, WriteOptions, WriteResult } from "../types";
import { DEADLINE_ERROR, type Failure, MIN_REQUEST_MS, WriteLedger } from "../write-core";
import { planChunks } from "./chunks";
import {
  type ResolvedWebhookConfig,
  resolveWebhookConfig,
  validateStreamSinkConfig,
  type WebhookSinkConfig,
} from "./config";
import { type EncodedRecord, encodeStreamRecord, STREAM_FORMAT_VERSION } from "./record-format";

/** The signature header: `t=<unix seconds>,v2=<hex HMAC-SHA256 of "<t>.<delivery id>.<body>">`. */
export const SIGNATURE_HEADER = "x-slotsync-signature";
/** Names one batch; the same on every retry of it, so a receiver can drop a repeat. */
export const DELIVERY_HEADER = "x-slotsync-delivery";
/** Bytes of `{"v":1,"operations":[` and `]}` around the records, plus commas (one per record, counted with it). */
const ENVELOPE_BYTES = `{"v":${STREAM_FORMAT_VERSION},"operations":[]}`.length;
/** The most of a refusal's body kept as the reason. */
const REASON_CHARS = 300;

/** The `fetch` the sink calls (the global one by default); replaceable in unit tests. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Optional collaborators of `createWebhookSink`. */
export interface WebhookSinkDependencies {
  runtime?: SinkRuntime;
  fetch?: FetchLike;
}

/**
 * The string a delivery's signature covers: `<timestamp>.<delivery id>.<raw body>`. The delivery id
 * is inside it, so a receiver that drops repeats by `X-Slotsync-Delivery` can trust that id.
 */
export function webhookSignedString(timestamp: number, delivery: string, body: string): string {
  return `${timestamp}.${delivery}.${body}`;
}

/**
 * The value of the signature header for `body` sent at `timestamp` (unix seconds) as delivery
 * `delivery`: `t=<timestamp>,v2=<hex HMAC-SHA256(secret, "<timestamp>.<delivery>.<body>")>`.
 * (`v1`, which left the delivery id out, is no longer sent.)
 */
export function signWebhookBody(secret: string, timestamp: number, delivery: string, body: string): string {
  const mac = createHmac("sha256", secret)
    .update(webhookSignedString(timestamp, delivery, body))
    .digest("hex");
  return `t=${timestamp},v2=${mac}`;
}

/**
 * What a receiver does with a delivery: true when `header` (`X-Slotsync-Signature`) carries a
 * valid signature of `delivery` (`X-Slotsync-Delivery`) and `body` made with `secret` at most
 * `toleranceSeconds` (default 300) away from `nowSeconds` (a replay of an old delivery fails).
 * Compares in constant time. `body` must be the raw request body, unparsed.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  delivery: string | undefined,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  if (!header || !delivery) return false;
  const parts = new Map<string, string[]>();
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    const key = part.slice(0, at).trim();
    parts.set(key, [...(parts.get(key) ?? []), part.slice(at + 1).trim()]);
  }
  const t = Number(parts.get("t")?.[0]);
  if (!Number.isInteger(t)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(
    createHmac("sha256", secret)
      .update(webhookSignedString(t, delivery, body))
      .digest("hex"),
  );
  return (parts.get("v2") ?? []).some((v) => {
    const given = Buffer.from(v);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * Creates the webhook sink: operations are POSTed in batches as `{"v":1,"operations":[...]}`
 * (records as `encodeStreamRecord` writes them), signed in `X-Slotsync-Signature`.
 *
 * Answers: 2xx is success for the whole batch. 408, 429, 5xx, timeouts and network errors are
 * retried with full-jitter backoff (at least `Retry-After` when the receiver sends one) until the
 * retries or the write deadline run out, then `retryable`. 401, 403, 404, 405 and redirects throw
 * a `SinkError`: nothing can succeed until the setup is fixed. Any other 4xx refuses the batch:
 * it is bisected until the refused operations stand alone, and those are `rejected` with the
 * receiver's reason (the consumer dead-letters them). Throws `ConfigError` for a bad config.
 */
export function createWebhookSink(
  config: WebhookSinkConfig,
  deps: WebhookSinkDependencies = {},
): WebhookSink {
  validateStreamSinkConfig(config);
  return new WebhookSink(resolveWebhookConfig(config), deps);
}

/** The webhook sink; see `createWebhookSink`. */
export class WebhookSink implements StreamSink {
  readonly engine = "webhook" as const;
  /** The receiver's host: the path and query may hold a token. */
  readonly target: string;
  private readonly runtime: SinkRuntime;
  private readonly fetch: FetchLike;
  private readonly secrets: string[];

  constructor(
    private readonly config: ResolvedWebhookConfig,
    deps: WebhookSinkDependencies = {},
  ) {
    this.target = new URL(config.url).host;
    this.runtime = deps.runtime ?? systemRuntime;
    this.fetch = deps.fetch ?? ((url, init) => fetch(url, init));
    this.secrets = [config.secret, config.url];
  }

  write<O extends StreamOperation>(ops: readonly O[], options: WriteOptions = {}): Promise<WriteResult<O>> {
    return new WebhookWrite(this, this.config, this.runtime, this.fetch, this.secrets, ops, options).run();
  }

  async close(): Promise<void> {}
}

/** One `write` call: the records, and the ledger of their outcomes, counters and deadline. */
class WebhookWrite<O extends StreamOperation> {
  private readonly ledger: WriteLedger<O>;
  private readonly encoded: (EncodedRecord | undefined)[];

  constructor(
    private readonly sink: WebhookSink,
    private readonly config: ResolvedWebhookConfig,
    private readonly runtime: SinkRuntime,
    private readonly fetch: FetchLike,
    private readonly secrets: readonly string[],
    private readonly ops: readonly O[],
    options: WriteOptions,
  ) {
    this.ledger = new WriteLedger(
      ops,
      runtime,
      { ...options, writeDeadlineMs: config.writeDeadlineMs },
      (text) => this.clean(text),
    );
    this.encoded = new Array(ops.length).fill(undefined);
  }

  async run(): Promise<WriteResult<O>> {
    const pending: number[] = [];
    const sizes: number[] = new Array(this.ops.length).fill(0);
    this.ops.forEach((op, i) => {
      const encoded = encodeStreamRecord(op);
      if ("invalid" in encoded) {
        this.ledger.finish(i, "rejected", { errorType: "invalid_operation", reason: encoded.invalid });
        return;
      }
      this.encoded[i] = encoded;
      sizes[i] = encoded.bytes + 1; // the comma
      pending.push(i);
    });
    const maxBytes = Math.max(1, this.config.batchBytes - ENVELOPE_BYTES);
    let heldBack: Failure | undefined;
    for (const chunk of planChunks(sizes, this.config.batchSize, maxBytes, pending)) {
      // After a batch failed for good, the rest is not sent: the receiver is down or overloaded.
      if (heldBack)
        this.ledger.finish(chunk, "retryable", {
          ...heldBack,
          reason: `not sent after a failed request: ${heldBack.reason}`,
        });
      else heldBack = await this.deliver(chunk);
    }
    return this.ledger.result();
  }

  /**
   * Sends one batch until it is accepted, refused or out of retries. Returns the failure when it
   * ended `retryable`, so the caller holds the rest back.
   */
  private async deliver(chunk: number[]): Promise<Failure | undefined> {
    const body = `{"v":${STREAM_FORMAT_VERSION},"operations":[${chunk.map((i) => this.encoded[i]?.json).join(",")}]}`;
    const delivery = randomUUID();
    let last: Failure | undefined;
    for (let round = 0; ; round++) {
      const remaining = this.ledger.remaining();
      if (remaining < MIN_REQUEST_MS) {
        return this.giveUp(
          chunk,
          last ?? { errorType: DEADLINE_ERROR, reason: "not sent: the write deadline came" },
          "the write deadline came first",
        );
      }
      this.ledger.sending(chunk, Buffer.byteLength(body));
      const answer = await this.post(body, delivery, Math.min(this.config.requestTimeoutMs, remaining));
      let retryAfterMs = 0;
      if ("failure" in answer) {
        last = answer.failure;
      } else {
        const { status, reason, retryAfter } = answer;
        if (status >= 200 && status < 300) {
          this.ledger.finish(chunk, "ok", { httpStatus: status });
          return undefined;
        }
        if (status === 408 || status === 429 || status >= 500) {
          last = { httpStatus: status, errorType: `http_${status}`, reason: reason || `HTTP ${status}` };
          retryAfterMs = retryAfter ?? 0;
        } else if ((status >= 300 && status < 400) || [401, 403, 404, 405].includes(status)) {
          throw this.setupError(status, reason);
        } else if (chunk.length > 1) {
          // A refusal of the whole batch may be about one operation: find it, let the rest through.
          const mid = Math.ceil(chunk.length / 2);
          const first = await this.deliver(chunk.slice(0, mid));
          if (first) {
            this.ledger.finish(chunk.slice(mid), "retryable", {
              ...first,
              reason: `not sent after a failed request: ${first.reason}`,
            });
            return first;
          }
          return this.deliver(chunk.slice(mid));
        } else {
          this.ledger.finish(chunk, "rejected", {
            httpStatus: status,
            errorType: `http_${status}`,
            reason: `the webhook receiver refused it with HTTP ${status}${reason ? `: ${reason}` : ""}`,
          });
          return undefined;
        }
      }
      const next = this.ledger.nextRetry(round, this.config, retryAfterMs);
      if ("stop" in next) {
        return this.giveUp(
          chunk,
          last,
          next.stop === "retries"
            ? "no retries left"
            : retryAfterMs > 0
              ? `the receiver asked to retry after ${Math.ceil(retryAfterMs / 1000)} s, past the write deadline`
              : "the write deadline came first",
        );
      }
      await this.ledger.backOff(next.waitMs, chunk.length);
    }
  }

  private async post(
    body: string,
    delivery: string,
    timeoutMs: number,
  ): Promise<{ failure: Failure } | { status: number; reason: string; retryAfter: number | undefined }> {
    const timestamp = Math.floor(this.runtime.now() / 1000);
    let response: Response;
    try {
      response = await this.fetch(this.config.url, {
        method: "POST",
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "slotsync-webhook/1",
          [SIGNATURE_HEADER]: signWebhookBody(this.config.secret, timestamp, delivery, body),
          [DELIVERY_HEADER]: delivery,
        },
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      if (e.name === "TimeoutError" || e.name === "AbortError") {
        return {
          failure: {
            errorType: "timeout",
            reason: `the webhook receiver did not answer within ${timeoutMs} ms`,
          },
        };
      }
      const detail = e.cause?.code ?? e.cause?.message ?? e.message;
      return {
        failure: {
          errorType: "network",
          reason: `cannot reach the webhook receiver at ${this.sink.target}: ${this.clean(detail)}`,
        },
      };
    }
    let text = "";
    try {
      text = await response.text();
    } catch {
      // The status is what counts; a body cut short only loses the reason.
    }
    return {
      status: response.status,
      reason: this.clean(reasonOf(text)),
      retryAfter: parseRetryAfter(response.headers.get("retry-after"), this.runtime.now()),
    };
  }

  /** Ends the batch `retryable` and returns its failure, so the caller holds the rest back. */
  private giveUp(chunk: readonly number[], last: Failure | undefined, why: string): Failure {
    this.ledger.giveUp(chunk, last, why);
    return last ?? { errorType: "unknown", reason: "unknown failure" };
  }

  private setupError(status: number, reason: string): SinkError {
    const redirect = status >= 300 && status < 400;
    return new SinkError(
      `the webhook receiver at ${this.sink.target} answered HTTP ${status}${reason ? `: ${reason}` : ""}`,
      {
        httpStatus: status,
        errorType: `http_${status}`,
        where: "WEBHOOK_URL",
        fix: redirect
          ? "set WEBHOOK_URL to the final URL: slotsync does not follow redirects (they would drop the POST body)"
          : status === 401 || status === 403
            ? "check that the receiver verifies X-Slotsync-Signature with the same WEBHOOK_SECRET, and that it accepts slotsync's requests"
            : "check WEBHOOK_URL: the receiver has no endpoint there that takes a POST",
      },
    );
  }

  /** Secrets and the full URL (it may hold a token) never reach an outcome or an error. */
  private clean(text: string): string {
    return redactText(text, this.secrets);
  }
}

/** The receiver's reason: `error`, `reason` or `message` of a JSON body, else the text, clipped. */
function reasonOf(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return "";
  try {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    for (const key of ["error", "reason", "message"]) {
      const value = parsed?.[key];
      if (typeof value === "string" && value) return clip(value);
      if (value && typeof value === "object") {
        const inner = (value as Record<string, unknown>).message ?? (value as Record<string, unknown>).reason;
        if (typeof inner === "string" && inner) return clip(inner);
      }
    }
  } catch {
    // Not JSON: the text itself.
  }
  return clip(trimmed.replace(/\s+/g, " "));
}

function clip(text: string): string {
  return text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS - 3)}...` : text;
}

/** `Retry-After` as ms from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
