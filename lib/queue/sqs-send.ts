import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
} from "@aws-sdk/client-sqs";
import { QueueError } from "./errors";
import { groupBatches, type QueueLimits } from "./pack";

/**
 * The one SQS call the publishers make. `SQSClient` satisfies it; tests may wrap a real client
 * to make some entries fail.
 */
export interface SqsBatchClient {
  send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput>;
}

/** How failed entries and failed calls are retried. */
export interface RetryOptions {
  /** Attempts per batch, the first included (default 5). */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles each attempt (default 100 ms). */
  baseDelayMs: number;
  /** Backoff ceiling (default 3000 ms). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 3000,
});

/** A retry that is about to happen, for logs and metrics. */
export interface RetryEvent {
  attempt: number;
  /** Entries about to be re-sent. */
  entries: number;
  /** SQS error codes (failed entries) or the error name (failed call). */
  codes: string[];
  delayMs: number;
}

/** Options shared by the SQS publishers. */
export interface SqsSendOptions {
  client: SqsBatchClient;
  queueUrl: string;
  /** Parallel SendMessageBatch calls (default 4). */
  concurrency?: number;
  retry?: Partial<RetryOptions>;
  /** Called before each retry. */
  onRetry?: (event: RetryEvent) => void;
  /** Replaceable for tests; defaults to `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Replaceable for tests; defaults to `Math.random`. */
  random?: () => number;
}

/** One message to send: its body, its attributes, and its SQS size (body plus attributes). */
export interface OutgoingEntry {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
  bytes: number;
  /** Seconds before SQS delivers the message (0-900). */
  delaySeconds?: number;
}

const RETRYABLE_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "KmsThrottled",
  "KmsThrottlingException",
  "ServiceUnavailable",
  "InternalError",
  "InternalFailure",
]);

interface AwsErrorShape {
  name?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Whether a failed SendMessageBatch call may succeed when repeated: throttling, 5xx, and errors
 * without any HTTP response (connection refused or reset, timeouts) may; 4xx such as a missing
 * queue or denied access will not.
 */
export function isRetryableSqsError(error: unknown): boolean {
  const err = (error ?? {}) as AwsErrorShape;
  if (err.$retryable) return true;
  if (err.name && RETRYABLE_NAMES.has(err.name)) return true;
  const status = err.$metadata?.httpStatusCode;
  return status === undefined || status === 429 || status >= 500;
}

function fixFor(code: string | undefined): string {
  if (code && /NonExistentQueue|QueueDoesNotExist/.test(code)) {
    return "check the queue URL; the queue does not exist in this account and region";
  }
  if (code && /AccessDenied|NotAuthorized|InvalidClientTokenId|SignatureDoesNotMatch/.test(code)) {
    return "grant sqs:SendMessage on the queue to this function's role";
  }
  return "the next cycle sends the same changes again; if it keeps failing, check SQS health and quotas";
}

interface BatchOutcome {
  /** Entries of the batch not accepted; 0 on success. */
  notAccepted: number;
  retryable: boolean;
  codes: string[];
  cause?: unknown;
}

/**
 * Sends `entries` with SendMessageBatch: batches within the limits, `concurrency` calls at a time,
 * each batch retrying only its not-yet-accepted entries (the `Failed` list, and everything after a
 * failed call) with exponential backoff and jitter. Resolves once SQS accepted every entry.
 *
 * After a batch fails for good no further batches are started (the caller will not advance, so
 * sending more would only add duplicates) and {@link QueueError} reports how many entries were not
 * accepted. Entries with `SenderFault` fail at once: repeating an invalid request cannot help.
 */
export async function sendEntries(
  entries: readonly OutgoingEntry[],
  limits: QueueLimits,
  options: SqsSendOptions,
): Promise<void> {
  if (entries.length === 0) return;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  // Ids are unique within a call, which is all SQS requires; the position makes them traceable.
  const withIds = entries.map((entry, i) => ({ ...entry, id: `m${i}` }));
  const batches = groupBatches(withIds, limits);

  const backoff = (attempt: number) => {
    const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap / 2 + (random() * cap) / 2);
  };

  const sendBatch = async (batch: typeof withIds): Promise<BatchOutcome> => {
    const pending = new Map(batch.map((entry) => [entry.id, entry]));
    let codes: string[] = [];
    let cause: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await options.client.send(
          new SendMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: [...pending.values()].map((e) => ({
              Id: e.id,
              MessageBody: e.body,
              ...(e.attributes ? { MessageAttributes: e.attributes } : {}),
              ...(e.delaySeconds ? { DelaySeconds: e.delaySeconds } : {}),
            })),
          }),
        );
        for (const ok of output.Successful ?? []) if (ok.Id) pending.delete(ok.Id);
        if (pending.size === 0) return { notAccepted: 0, retryable: true, codes: [] };
        const failed = output.Failed ?? [];
        codes = failed.map((f) => f.Code ?? "Unknown");
        cause = failed[0];
        if (failed.some((f) => f.SenderFault === true && f.Id && pending.has(f.Id))) {
          return { notAccepted: pending.size, retryable: false, codes, cause };
        }
      } catch (error) {
        codes = [(error as AwsErrorShape).name ?? "Error"];
        cause = error;
        if (!isRetryableSqsError(error)) return { notAccepted: pending.size, retryable: false, codes, cause };
      }
      if (attempt >= retry.maxAttempts) return { notAccepted: pending.size, retryable: true, codes, cause };
      const delayMs = backoff(attempt);
      options.onRetry?.({ attempt: attempt + 1, entries: pending.size, codes, delayMs });
      await sleep(delayMs);
    }
  };

  const failures: BatchOutcome[] = [];
  let next = 0;
  let skipped = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      if (!batch) break;
      if (failures.length > 0) {
        skipped += batch.length;
        continue;
      }
      const outcome = await sendBatch(batch);
      if (outcome.notAccepted > 0) failures.push(outcome);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, batches.length));
  await Promise.all(Array.from({ length: concurrency }, worker));

  if (failures.length === 0) return;
  const notAccepted = failures.reduce((n, f) => n + f.notAccepted, 0) + skipped;
  const codes = [...new Set(failures.flatMap((f) => f.codes))].slice(0, 5);
  const retryable = failures.every((f) => f.retryable);
  throw new QueueError(
    `SQS did not accept ${notAccepted} of ${entries.length} messages for ${options.queueUrl}` +
      ` (${codes.join(", ") || "unknown error"})${retryable ? " after retrying" : ""}`,
    {
      notAccepted,
      total: entries.length,
      codes,
      retryable,
      cause: failures[0]?.cause,
      where: options.queueUrl,
      fix: fixFor(codes[0]),
    },
  );
}
