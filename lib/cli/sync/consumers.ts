import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  type BatchResult,
  type BatchStats,
  type ConsumerDeps,
  emptyBatchStats,
  isFatal,
  processBatch,
} from "../../consumer";
import { eventFromReceived, recordFromSqsMessage, type SqsEvent } from "../../queue";
import type { LocalQueue } from "./local-queue";

/** How consumers learn when to stop, and how they stop everything. */
export interface ConsumerControl {
  /** True once no more work will be published (the poller has stopped). */
  finishing(): boolean;
  /** Aborted to stop after the current batch (shutdown, or a fatal error elsewhere). */
  signal: AbortSignal;
  /** An error retrying cannot fix: stop the whole run with it. */
  fatal(error: unknown): void;
  /** Called after every batch, for the log and the totals. */
  report(stats: BatchStats, error: unknown): void;
}

/** Delay before a failed message comes again: 0.5 s doubling to 30 s. */
export function retryDelayMs(receiveCount: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, Math.min(receiveCount - 1, 10)));
}

/** A consumer of the in-process queue: receive, build and write, acknowledge or retry later. */
export async function runMemoryConsumer(
  queue: LocalQueue,
  deps: ConsumerDeps,
  control: ConsumerControl,
): Promise<void> {
  for (;;) {
    const messages = await queue.receive(10, () => control.finishing(), control.signal);
    if (messages.length === 0) return;
    const result = await runBatch(eventFromReceived(messages), deps);
    const failed = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const m of messages) {
      if (failed.has(m.messageId)) queue.retryLater(m, retryDelayMs(m.receiveCount));
      else queue.ack(m);
    }
    control.report(result.stats, result.error);
    if (isFatal(result.error)) {
      queue.fail(result.error);
      control.fatal(result.error);
      return;
    }
  }
}

export interface SqsConsumerOptions {
  queueUrl: string;
  /** Long-poll wait of one receive, seconds (1-20). */
  waitSeconds: number;
  /** Stop at the first empty receive once `finishing()` (for `--once`). */
  drain: boolean;
}

/**
 * A consumer of the SQS queue outside Lambda: long-poll, process the batch like the consumer
 * Lambda, delete what succeeded. Failed messages are left to the queue's visibility timeout and
 * redrive policy, exactly as with the Lambda event source.
 */
export async function runSqsConsumer(
  sqs: SQSClient,
  deps: ConsumerDeps,
  control: ConsumerControl,
  options: SqsConsumerOptions,
): Promise<void> {
  let errors = 0;
  while (!control.signal.aborted) {
    // Only a receive that began after the poller finished proves the queue is drained.
    const startedFinishing = control.finishing();
    let received: ReceiveMessageCommandOutput;
    try {
      received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: options.waitSeconds,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          MessageAttributeNames: ["All"],
        }),
        { abortSignal: control.signal },
      );
      errors = 0;
    } catch (error) {
      if (control.signal.aborted) return;
      errors++;
      control.report(emptyBatchStats(), error);
      await pause(retryDelayMs(errors), control.signal);
      continue;
    }
    const messages = received.Messages ?? [];
    if (messages.length === 0) {
      if (options.drain && startedFinishing) return;
      continue;
    }
    const records = messages.map((m) => recordFromSqsMessage(m));
    const result = await runBatch({ Records: records }, deps);
    const failed = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => m.MessageId && !failed.has(m.MessageId) && m.ReceiptHandle);
    if (done.length > 0) {
      try {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
          }),
        );
      } catch (error) {
        // Not deleted: they come again and are written again, idempotently (same versions).
        control.report(emptyBatchStats(), error);
      }
    }
    control.report(result.stats, result.error);
  }
}

/** processBatch, with a thrown error (nothing could be written) turned into "every record failed". */
async function runBatch(event: SqsEvent, deps: ConsumerDeps): Promise<BatchResult> {
  try {
    return await processBatch(event, deps);
  } catch (error) {
    const stats = { ...emptyBatchStats(event.Records.length), failed: event.Records.length };
    const result: BatchResult = {
      response: { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) },
      stats,
      error,
    };
    return result;
  }
}

/** Resolves after `ms`, or at once when `signal` is (or becomes) aborted. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
