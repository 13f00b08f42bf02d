import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { ConsumerQueue } from "./consumer-queue";
import type { ReceivedMessage } from "./memory";

/** Options of {@link SqsConsumerQueue}. */
export interface SqsConsumerQueueOptions {
  queueUrl: string;
  /** Long-poll wait of the first receive of a batch, seconds (0-20; default 20). */
  waitSeconds?: number;
  /**
   * Keep receiving for this long after the first message arrived, until the batch is full
   * (the event source mapping's `MaximumBatchingWindowInSeconds`). Default 0: one receive.
   */
  batchWindowMs?: number;
  /** Visibility timeout of received messages, seconds; default the queue's own. */
  visibilityTimeoutSeconds?: number;
}

/**
 * An SQS queue consumed outside Lambda, doing what the Lambda event source mapping does: long-poll
 * for a batch (optionally gathering it for a batching window), delete what succeeded. Failed
 * messages are left to the queue's visibility timeout and redrive policy, as with the event source.
 */
export class SqsConsumerQueue implements ConsumerQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, "send">,
    private readonly options: SqsConsumerQueueOptions,
  ) {}

  async receive(options: { maxMessages: number; signal?: AbortSignal }): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    const window = this.options.batchWindowMs ?? 0;
    let windowEnds = Number.POSITIVE_INFINITY;
    do {
      const waitSeconds =
        out.length === 0
          ? (this.options.waitSeconds ?? 20)
          : Math.min(20, Math.max(0, Math.ceil((windowEnds - Date.now()) / 1000)));
      const got = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: Math.min(10, options.maxMessages - out.length),
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          MessageAttributeNames: ["All"],
          ...(this.options.visibilityTimeoutSeconds === undefined
            ? {}
            : { VisibilityTimeout: this.options.visibilityTimeoutSeconds }),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      const messages = (got.Messages ?? []).flatMap((m) => received(m));
      if (messages.length === 0 && out.length === 0) return out;
      if (out.length === 0) windowEnds = Date.now() + window;
      out.push(...messages);
    } while (out.length < options.maxMessages && Date.now() < windowEnds && !options.signal?.aborted);
    return out;
  }

  async acknowledge(messages: readonly ReceivedMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.receiptHandle })),
        }),
      );
    }
  }

  /** Left to the visibility timeout (and, past the receive limit, the redrive policy). */
  retryLater(): void {}

  /** The long poll already waited: receive again at once. */
  async waitForMessages(): Promise<void> {}
}

/** The message as the consumer loop takes it; a message without id or handle cannot be acknowledged. */
function received(m: Message): ReceivedMessage[] {
  if (!m.MessageId || !m.ReceiptHandle) return [];
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return [
    {
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body ?? "",
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      sentAt: Number(m.Attributes?.SentTimestamp ?? Date.now()),
      attributes,
    },
  ];
}
