import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Properties of {@link SyncQueues}. */
export interface SyncQueuesProps {
  /** The consumer's timeout; the visibility timeout is six times this (AWS's advice for Lambda). */
  readonly consumerTimeout: Duration;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** What happens to both queues when the stack is deleted; default retain (they may hold keys). */
  readonly removalPolicy?: RemovalPolicy;
}

/** Six consumer timeouts: room for the retries of a batch before SQS shows the message again. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** How long the key queue keeps a message. */
export const QUEUE_RETENTION = Duration.days(7);
/**
 * How long the dead-letter queue keeps one: the maximum, longer than the key queue's, because SQS
 * counts a message's retention from its first enqueue in the key queue, not from its move to the
 * DLQ. A letter thus stays at least 7 days in the DLQ, however long it waited before.
 */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * The key queue the poller fills and the consumers drain, and its dead-letter queue. Both are
 * encrypted with SQS-managed keys and refuse plain HTTP. The key queue keeps messages 7 days (the
 * QueueOldestMessageAge alarm fires within minutes of a stall, long before retention could drop
 * a key); the DLQ 14 days, the maximum.
 */
export class SyncQueues extends Construct {
  /** The key queue (`SQS_QUEUE_URL`). */
  readonly queue: Queue;
  /** The dead-letter queue (`SQS_DLQ_URL`): poison messages and records the consumer gave up on. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: SyncQueuesProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxReceiveCount) || props.maxReceiveCount < 1 || props.maxReceiveCount > 1000)
      throw new Error("maxReceiveCount must be a whole number from 1 to 1000");
    const visibility = props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR;
    if (visibility > Duration.hours(12).toSeconds())
      throw new Error(
        "the consumer timeout is too long: six times it must fit SQS's 12-hour visibility limit",
      );

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: Duration.seconds(visibility),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
