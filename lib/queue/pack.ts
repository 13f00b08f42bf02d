import { rootKey, toSqsJson, toWire } from "./codec";
import { MessageFormatError } from "./errors";
import type { KeysMessage, RootKey } from "./message";

/** Size limits the packer and the publishers respect. */
export interface QueueLimits {
  /** Largest message SQS accepts, body plus attributes, in bytes (SQS: 262,144). */
  maxMessageBytes: number;
  /** Largest SendMessageBatch call: the sum of its entries' bodies and attributes (SQS: 262,144). */
  maxBatchBytes: number;
  /** Most entries in one SendMessageBatch call (SQS: 10). */
  maxBatchEntries: number;
  /**
   * Bytes every published message leaves unused, so the same body can later be forwarded to the
   * dead-letter queue with reason attributes (see `SqsDeadLetterPublisher`) and still fit.
   */
  headroomBytes: number;
}

/** The limits of Amazon SQS standard queues, with 4 KiB of headroom for dead-letter attributes. */
export const SQS_LIMITS: Readonly<QueueLimits> = Object.freeze({
  maxMessageBytes: 256 * 1024,
  maxBatchBytes: 256 * 1024,
  maxBatchEntries: 10,
  headroomBytes: 4 * 1024,
});

/** Fills in defaults from {@link SQS_LIMITS} and refuses limits that cannot work. */
export function resolveLimits(limits: Partial<QueueLimits> = {}): QueueLimits {
  const resolved = { ...SQS_LIMITS, ...limits };
  const { maxMessageBytes, maxBatchBytes, maxBatchEntries, headroomBytes } = resolved;
  if (
    !Number.isInteger(maxBatchEntries) ||
    maxBatchEntries < 1 ||
    !(headroomBytes >= 0) ||
    !(maxMessageBytes > headroomBytes + 512) ||
    !(maxBatchBytes >= maxMessageBytes)
  ) {
    throw new RangeError(`queue limits do not fit together: ${JSON.stringify(resolved)}`);
  }
  return resolved;
}

/** Bytes of message body a published message may use: the message limit minus the headroom. */
export function bodyBudget(limits: QueueLimits): number {
  return limits.maxMessageBytes - limits.headroomBytes;
}

/** UTF-8 size of a string, which is how SQS measures bodies and attribute values. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** What {@link packKeys} turns into messages: the keys one poller cycle found for one index. */
export interface KeysToPack {
  index: string;
  /** Root keys in any order; duplicates (equal JSON) are sent once. */
  keys: Iterable<RootKey>;
  /** The version for all of them: commit LSN of the newest transaction that caused any of them. */
  lsn: bigint;
  /** The 32-bit xid of the transaction at `lsn`, when known. */
  xid?: number;
  /** Defaults to now. */
  sentAt?: string;
  /**
   * Most keys in one message (default {@link DEFAULT_KEYS_PER_MESSAGE}). A consumer batch is a few
   * messages, so this bounds the documents one consumer invocation rebuilds, and spreads a large
   * cycle over many consumers.
   */
  maxKeys?: number;
}

/** Keys per message: one consumer batch of 10 messages rebuilds at most 10,000 documents. */
export const DEFAULT_KEYS_PER_MESSAGE = 1000;

/**
 * Packs keys for one index into as few `keys` messages as the body budget allows, so a cycle with
 * 100k keys makes a handful of SQS requests instead of thousands. Sizes are computed exactly from
 * the encoded JSON, so every message's body is at most {@link bodyBudget} bytes.
 *
 * Throws {@link MessageFormatError} (path `keys[i]...`) for a key that cannot be sent: a value
 * that is not a string, finite number or boolean, an unsafe integer, a key of a different length
 * than the first, or a key too large to fit a message on its own.
 */
export function packKeys(input: KeysToPack, limits: Partial<QueueLimits> = {}): KeysMessage[] {
  const budget = bodyBudget(resolveLimits(limits));
  const maxKeys = input.maxKeys ?? DEFAULT_KEYS_PER_MESSAGE;
  const sentAt = input.sentAt ?? new Date().toISOString();
  const base = { kind: "keys" as const, index: input.index, lsn: input.lsn, sentAt };
  const head = input.xid === undefined ? base : { ...base, xid: input.xid };
  // Exact: the envelope with an empty list, plus each key's JSON and one comma between keys.
  const envelope = utf8Bytes(toSqsJson(toWire({ ...head, keys: [] })));
  if (envelope >= budget) {
    throw new MessageFormatError(`the message envelope alone is ${envelope} bytes`, { path: "$.index" });
  }

  const messages: KeysMessage[] = [];
  const seen = new Set<string>();
  let current: RootKey[] = [];
  let size = envelope;
  let arity = -1;
  let i = -1;
  for (const key of input.keys) {
    i += 1;
    rootKey(key, `keys[${i}]`);
    if (arity === -1) arity = key.length;
    else if (key.length !== arity) {
      throw new MessageFormatError(`has ${key.length} values but the first key has ${arity}`, {
        path: `keys[${i}]`,
        fix: "pack the keys of one root table at a time",
      });
    }
    const json = toSqsJson(key);
    if (seen.has(json)) continue;
    seen.add(json);
    const bytes = utf8Bytes(json);
    if (envelope + bytes > budget) {
      throw new MessageFormatError(`key of ${bytes} bytes does not fit in a ${budget}-byte message`, {
        path: `keys[${i}]`,
      });
    }
    if (current.length > 0 && (size + 1 + bytes > budget || current.length >= maxKeys)) {
      messages.push({ ...head, keys: current });
      current = [];
      size = envelope;
    }
    size += (current.length > 0 ? 1 : 0) + bytes;
    current.push(key);
  }
  if (current.length > 0) messages.push({ ...head, keys: current });
  return messages;
}

/** Anything with a size that {@link groupBatches} can place into SendMessageBatch calls. */
export interface Sized {
  /** Body plus attributes, in bytes. */
  bytes: number;
}

/**
 * Groups entries, in order, into batches of at most `maxBatchEntries` entries and
 * `maxBatchBytes` bytes. An entry larger than `maxBatchBytes` gets a batch of its own (SQS will
 * refuse it and say why; callers check sizes before).
 */
export function groupBatches<T extends Sized>(entries: readonly T[], limits: QueueLimits): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (
      batch.length > 0 &&
      (batch.length >= limits.maxBatchEntries || bytes + entry.bytes > limits.maxBatchBytes)
    ) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
