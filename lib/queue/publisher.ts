import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import { encodeMessage } from "./codec";
import { QueueError } from "./errors";
import type { QueueMessage } from "./message";
import { bodyBudget, type QueueLimits, resolveLimits, utf8Bytes } from "./pack";
import { type OutgoingEntry, type SqsSendOptions, sendEntries } from "./sqs-send";

/**
 * Where the poller and the bootstrap hand messages on. `publish` resolves only once the queue
 * accepted every message; when it rejects, some may have been accepted and some not, and the
 * caller must not advance the replication slot (re-sending is safe: consumers are idempotent).
 */
export interface KeyPublisher {
  publish(messages: readonly QueueMessage[]): Promise<void>;
}

/** A received message that must go to the dead-letter queue now, with the reason why. */
export interface DeadLetter {
  /** The original message body, unchanged, so it can be inspected and redriven. */
  body: string;
  /** One line, e.g. `unknown message version 2` or `$.keys[0]: must contain ...`. */
  reason: string;
  /** The original record's SQS message id. */
  messageId?: string;
  /** How often the original was received (the record's `ApproximateReceiveCount`). */
  receiveCount?: number;
  /** Where the original came from, e.g. the record's `eventSourceARN`. */
  source?: string;
}

/**
 * Sends messages to the dead-letter queue with their reason. `send` resolves once every letter was
 * accepted; only then may the caller acknowledge (delete) the originals, so a failure here leaves
 * them in the source queue instead of losing them.
 */
export interface DeadLetterPublisher {
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/** Names of the message attributes a dead letter carries. */
export const DEAD_LETTER_ATTRIBUTES = Object.freeze({
  reason: "slotsync-reason",
  messageId: "slotsync-source-message-id",
  receiveCount: "slotsync-receive-count",
  source: "slotsync-source",
  at: "slotsync-dead-lettered-at",
});

/** A reason longer than this is cut: one line for an operator, not a log dump. */
const MAX_REASON_CHARS = 1000;
/**
 * Replaces the characters SQS refuses in attribute values (and bodies) with U+FFFD. SQS allows
 * #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF; iterating by code point also
 * catches unpaired surrogates.
 */
export function sqsSafeText(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      cp >= 0x10000;
    out += ok ? ch : "\uFFFD";
  }
  return out;
}

/** Size SQS counts for attributes: name, data type and value of each. */
export function attributeBytes(attributes: Record<string, MessageAttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += utf8Bytes(name) + utf8Bytes(value.DataType ?? "") + utf8Bytes(value.StringValue ?? "");
  }
  return bytes;
}

/**
 * Encodes messages for publishing and checks each fits the body budget. Throws a non-retryable
 * {@link QueueError} before anything is sent when one does not (build keys messages with
 * `packKeys`, which never produces one).
 */
export function encodeForPublish(messages: readonly QueueMessage[], limits: QueueLimits): OutgoingEntry[] {
  const budget = bodyBudget(limits);
  return messages.map((message, i) => {
    const body = encodeMessage(message);
    const bytes = utf8Bytes(body);
    if (bytes > budget) {
      throw new QueueError(
        `message ${i} (${message.kind}) is ${bytes} bytes, above the ${budget}-byte budget`,
        {
          retryable: false,
          notAccepted: messages.length,
          total: messages.length,
          fix: "build keys messages with packKeys, which splits them to fit",
        },
      );
    }
    return { body, bytes };
  });
}

function cut(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  let out = "";
  let bytes = 3; // the ellipsis
  for (const ch of text) {
    bytes += utf8Bytes(ch);
    if (bytes > maxBytes) break;
    out += ch;
  }
  return `${out}…`;
}

/**
 * The dead-letter form of a letter: the original body with reason attributes. The reason is
 * cleaned of characters SQS refuses and shortened so the whole message fits `maxMessageBytes`.
 */
export function deadLetterEntry(letter: DeadLetter, limits: QueueLimits, now = new Date()): OutgoingEntry {
  const string = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });
  const attributes: Record<string, MessageAttributeValue> = {
    [DEAD_LETTER_ATTRIBUTES.at]: string(now.toISOString()),
  };
  if (letter.messageId) attributes[DEAD_LETTER_ATTRIBUTES.messageId] = string(sqsSafeText(letter.messageId));
  if (letter.source) attributes[DEAD_LETTER_ATTRIBUTES.source] = string(sqsSafeText(letter.source));
  if (letter.receiveCount !== undefined) {
    attributes[DEAD_LETTER_ATTRIBUTES.receiveCount] = {
      DataType: "Number",
      StringValue: String(letter.receiveCount),
    };
  }
  const fixed = utf8Bytes(letter.body) + attributeBytes(attributes);
  const name = DEAD_LETTER_ATTRIBUTES.reason;
  const room = limits.maxMessageBytes - fixed - utf8Bytes(name) - utf8Bytes("String");
  // Slice before cleaning: a cut surrogate pair then becomes U+FFFD instead of an invalid char.
  const short = sqsSafeText((letter.reason.trim() || "no reason given").slice(0, MAX_REASON_CHARS));
  const reason = cut(short, Math.max(room, 16));
  attributes[name] = string(reason);
  return { body: letter.body, attributes, bytes: utf8Bytes(letter.body) + attributeBytes(attributes) };
}

/** Options of {@link SqsKeyPublisher} and {@link SqsDeadLetterPublisher}. */
export interface SqsPublisherOptions extends SqsSendOptions {
  limits?: Partial<QueueLimits>;
}

/**
 * {@link KeyPublisher} on an SQS standard queue with SendMessageBatch: up to 10 messages and
 * 256 KiB per call, `concurrency` calls in parallel, retrying only the entries SQS did not accept.
 * Throws {@link QueueError} (retryable) naming how many were not accepted once retries run out.
 */
export class SqsKeyPublisher implements KeyPublisher {
  private readonly limits: QueueLimits;

  constructor(private readonly options: SqsPublisherOptions) {
    this.limits = resolveLimits(options.limits);
  }

  async publish(messages: readonly QueueMessage[], options: { delaySeconds?: number } = {}): Promise<void> {
    // SQS delays a message by at most 15 minutes.
    const delay = Math.max(0, Math.min(900, Math.round(options.delaySeconds ?? 0)));
    const entries = encodeForPublish(messages, this.limits).map((e) =>
      delay > 0 ? { ...e, delaySeconds: delay } : e,
    );
    await sendEntries(entries, this.limits, this.options);
  }
}

/**
 * {@link DeadLetterPublisher} that sends each letter's original body to the DLQ URL with the
 * attributes in {@link DEAD_LETTER_ATTRIBUTES}; retries like {@link SqsKeyPublisher}.
 */
export class SqsDeadLetterPublisher implements DeadLetterPublisher {
  private readonly limits: QueueLimits;

  constructor(private readonly options: SqsPublisherOptions) {
    this.limits = resolveLimits(options.limits);
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const now = new Date();
    const entries = letters.map((letter) => deadLetterEntry(letter, this.limits, now));
    await sendEntries(entries, this.limits, this.options);
  }
}
