import { randomUUID } from "node:crypto";
import type { ConsumerQueue } from "./consumer-queue";
import { QueueError } from "./errors";
import type { QueueMessage } from "./message";
import { type QueueLimits, resolveLimits, utf8Bytes } from "./pack";
import {
  DEAD_LETTER_ATTRIBUTES,
  type DeadLetter,
  type DeadLetterPublisher,
  deadLetterEntry,
  encodeForPublish,
  type KeyPublisher,
} from "./publisher";

/** Options of {@link MemoryQueue}. */
export interface MemoryQueueOptions {
  /** How long a received message stays invisible unless deleted (default 30 s, like SQS). */
  visibilityTimeoutMs?: number;
  /**
   * Receives after which the next receive moves the message to the dead letters instead
   * (default 5; `Infinity` disables it), like an SQS redrive policy.
   */
  maxReceiveCount?: number;
  limits?: Partial<QueueLimits>;
  /** Clock in epoch milliseconds; replaceable so tests move time instead of waiting. */
  now?: () => number;
  /**
   * Test hook standing in for SQS's per-entry failures: return false to refuse the entry at that
   * position of a `publish` call. The others are accepted and `publish` rejects with QueueError.
   */
  accept?: (body: string, position: number) => boolean;
}

/** A message handed out by {@link MemoryQueue.receive}. */
export interface ReceivedMessage {
  messageId: string;
  /** Valid until the message is received again; deleting with an older handle does nothing. */
  receiptHandle: string;
  body: string;
  /** 1 on first delivery. */
  receiveCount: number;
  /** When it was sent, epoch milliseconds. */
  sentAt: number;
  /** String attributes (dead letters carry their reason here). */
  attributes: Record<string, string>;
}

/** A message in the dead-letter list, with why it is there. */
export interface DeadLetteredMessage {
  messageId: string;
  body: string;
  reason: string;
  receiveCount: number;
  deadLetteredAt: number;
  attributes: Record<string, string>;
}

interface Stored {
  messageId: string;
  body: string;
  attributes: Record<string, string>;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string | undefined;
}

/**
 * An in-process queue with SQS standard-queue semantics, for local mode and tests: `publish`
 * validates and sizes messages exactly as {@link SqsKeyPublisher} does, `receive` hides messages
 * for a visibility timeout and redelivers them when not deleted, and after `maxReceiveCount`
 * receives a message moves to {@link MemoryQueue.deadLetters} with a reason.
 */
export class MemoryQueue implements KeyPublisher, ConsumerQueue {
  private readonly messages = new Map<string, Stored>();
  private readonly handles = new Map<string, string>();
  private readonly dead: DeadLetteredMessage[] = [];
  private readonly limits: QueueLimits;
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private readonly now: () => number;

  constructor(private readonly options: MemoryQueueOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.now = options.now ?? Date.now;
  }

  async publish(messages: readonly QueueMessage[]): Promise<void> {
    const entries = encodeForPublish(messages, this.limits);
    let refused = 0;
    entries.forEach((entry, i) => {
      if (this.options.accept && !this.options.accept(entry.body, i)) refused += 1;
      else this.sendBody(entry.body);
    });
    if (refused > 0) {
      throw new QueueError(`the memory queue did not accept ${refused} of ${entries.length} messages`, {
        retryable: true,
        notAccepted: refused,
        total: entries.length,
        codes: ["Refused"],
      });
    }
  }

  /**
   * Enqueues a raw body as is — for bodies `publish` would refuse, such as a message of another
   * format version. `delayMs` hides it that long first (SQS `DelaySeconds`). Returns the message id.
   */
  sendBody(body: string, attributes: Record<string, string> = {}, delayMs = 0): string {
    if (utf8Bytes(body) > this.limits.maxMessageBytes) {
      throw new QueueError(`body of ${utf8Bytes(body)} bytes exceeds ${this.limits.maxMessageBytes}`, {
        retryable: false,
        notAccepted: 1,
        total: 1,
      });
    }
    const messageId = randomUUID();
    const now = this.now();
    this.messages.set(messageId, {
      messageId,
      body,
      attributes: { ...attributes },
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + delayMs,
      receiptHandle: undefined,
    });
    return messageId;
  }

  /**
   * Receives up to `maxMessages` visible messages, oldest first, and hides them for the visibility
   * timeout. A message already received `maxReceiveCount` times goes to the dead letters instead.
   */
  receive(options: { maxMessages?: number; visibilityTimeoutMs?: number } = {}): ReceivedMessage[] {
    const max = options.maxMessages ?? 10;
    const timeout = options.visibilityTimeoutMs ?? this.visibilityTimeoutMs;
    const now = this.now();
    const out: ReceivedMessage[] = [];
    for (const stored of this.messages.values()) {
      if (out.length >= max) break;
      if (stored.visibleAt > now) continue;
      if (stored.receiveCount >= this.maxReceiveCount) {
        this.moveToDeadLetters(
          stored,
          `maxReceiveCount (${this.maxReceiveCount}) exceeded: received ${stored.receiveCount} times without being deleted`,
        );
        continue;
      }
      if (stored.receiptHandle) this.handles.delete(stored.receiptHandle);
      stored.receiveCount += 1;
      stored.visibleAt = now + timeout;
      stored.receiptHandle = `${stored.messageId}:${stored.receiveCount}:${randomUUID()}`;
      this.handles.set(stored.receiptHandle, stored.messageId);
      out.push({
        messageId: stored.messageId,
        receiptHandle: stored.receiptHandle,
        body: stored.body,
        receiveCount: stored.receiveCount,
        sentAt: stored.sentAt,
        attributes: { ...stored.attributes },
      });
    }
    return out;
  }

  /** Deletes a received message; false when the handle is stale (received again since) or unknown. */
  delete(receiptHandle: string): boolean {
    const id = this.handles.get(receiptHandle);
    if (id === undefined) return false;
    this.handles.delete(receiptHandle);
    return this.messages.delete(id);
  }

  /** Makes a received message visible again after `timeoutMs` (0: at once). */
  changeVisibility(receiptHandle: string, timeoutMs: number): boolean {
    const id = this.handles.get(receiptHandle);
    const stored = id === undefined ? undefined : this.messages.get(id);
    if (!stored) return false;
    stored.visibleAt = this.now() + timeoutMs;
    return true;
  }

  /** Deletes handled messages (stale handles are ignored, as {@link MemoryQueue.delete} does). */
  acknowledge(messages: readonly ReceivedMessage[]): void {
    for (const m of messages) this.delete(m.receiptHandle);
  }

  /** Makes a failed message visible again after `delayMs`. */
  retryLater(message: ReceivedMessage, delayMs: number): void {
    this.changeVisibility(message.receiptHandle, delayMs);
  }

  /** Messages not deleted yet: visible, in flight, or waiting to be visible again. */
  pending(): number {
    return this.messages.size;
  }

  /** A {@link DeadLetterPublisher} that appends to this queue's dead letters. */
  deadLetterPublisher(): DeadLetterPublisher {
    return {
      send: async (letters: readonly DeadLetter[]) => {
        const now = new Date(this.now());
        for (const letter of letters) {
          const entry = deadLetterEntry(letter, this.limits, now);
          const attributes: Record<string, string> = {};
          for (const [name, value] of Object.entries(entry.attributes ?? {})) {
            attributes[name] = value.StringValue ?? "";
          }
          this.dead.push({
            messageId: letter.messageId ?? randomUUID(),
            body: letter.body,
            reason: attributes[DEAD_LETTER_ATTRIBUTES.reason] ?? letter.reason,
            receiveCount: letter.receiveCount ?? 0,
            deadLetteredAt: now.getTime(),
            attributes,
          });
        }
      },
    };
  }

  /** Messages moved to the dead letters, oldest first (a copy). */
  get deadLetters(): readonly DeadLetteredMessage[] {
    return [...this.dead];
  }

  /** How many messages are visible now, in flight (received, not deleted) and dead-lettered. */
  counts(): { visible: number; inFlight: number; deadLettered: number } {
    const now = this.now();
    let visible = 0;
    for (const stored of this.messages.values()) if (stored.visibleAt <= now) visible += 1;
    return { visible, inFlight: this.messages.size - visible, deadLettered: this.dead.length };
  }

  private moveToDeadLetters(stored: Stored, reason: string): void {
    this.messages.delete(stored.messageId);
    if (stored.receiptHandle) this.handles.delete(stored.receiptHandle);
    this.dead.push({
      messageId: stored.messageId,
      body: stored.body,
      reason,
      receiveCount: stored.receiveCount,
      deadLetteredAt: this.now(),
      attributes: { ...stored.attributes, [DEAD_LETTER_ATTRIBUTES.reason]: reason },
    });
  }
}
