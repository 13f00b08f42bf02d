import type { ParsedRecord, QueueMessage, SqsRecord } from "../queue";
import { DEADLINE_ERROR, type SinkOutcome, type StreamOperation } from "../sink";
import type { ConsumerOptions } from "./types";

/** The identity of a root key across the consumer: its text values as JSON. */
export function keyId(key: readonly string[]): string {
  return JSON.stringify(key);
}

/** A record to send again as a new message. */
export interface DeferredRecord {
  record: SqsRecord;
  message: QueueMessage;
}

/** Seconds a record waits after the engine pushed back (429), when the options say nothing. */
export const DEFAULT_THROTTLE_DELAY_SECONDS = 30;

/**
 * True for an outcome the engine did not refuse on its merits: never sent because the deadline
 * left no time, cut by the deadline, pushed back for overload (429), or not answered within its
 * timeout (an engine too slow for now; a dead one refuses connections or answers 5xx instead).
 */
export function isDeferrable(outcome: SinkOutcome<StreamOperation>): boolean {
  return outcome.status === "retryable" && (outcome.errorType === DEADLINE_ERROR || isPushback(outcome));
}

/** The engine pushed back: a 429, or no answer within the request's timeout. */
function isPushback(outcome: SinkOutcome<StreamOperation>): boolean {
  return outcome.httpStatus === 429 || outcome.errorType === "timeout";
}

/**
 * Collects, from a batch's write outcomes, the records held back only by the deadline or by the
 * engine's pushback, and plans them as new messages: a keys record with just the keys not yet
 * written, any other record as it came. Sending them again instead of failing them keeps their
 * SQS receive count, so a slow engine never pushes them into the dead-letter queue.
 */
export class Deferral {
  /** Records with a deferrable outcome, and whether the engine pushed back on any of them. */
  private readonly deferred = new Map<string, { throttled: boolean }>();
  /** Records with a retryable outcome that is not deferrable: they come again the usual way. */
  private readonly hard = new Set<string>();
  /**
   * Every outcome with a key, kept as it came: which keys of a record ended written is worked
   * out in `plan`, and only when some record was deferred (a batch seldom has any).
   */
  private readonly outcomes: { key: readonly string[]; written: boolean; records: readonly string[] }[] = [];

  /**
   * Takes one write outcome into account, for the records that asked for it. `key` is the root
   * key the write was for; a write without one (a truncate, a delete the routing step added) never
   * gets its record requeued.
   */
  record(outcome: SinkOutcome<StreamOperation>, records: readonly string[], key?: readonly string[]): void {
    if (outcome.status === "retryable") {
      for (const id of records) {
        // A write the routing step added has no key of its own: its record is not requeued.
        if (isDeferrable(outcome) && key !== undefined) {
          const entry = this.deferred.get(id) ?? { throttled: false };
          entry.throttled ||= isPushback(outcome);
          this.deferred.set(id, entry);
        } else this.hard.add(id);
      }
    }
    if (key === undefined) return;
    this.outcomes.push({ key, written: outcome.status === "ok" || outcome.status === "stale", records });
  }

  /**
   * The records of `failed` to send again, grouped by their delay in seconds: `0` after the
   * deadline, {@link ConsumerOptions.throttleDelaySeconds} after pushback (a 429 or a timeout).
   */
  plan(
    failed: ReadonlySet<string>,
    parsed: readonly ParsedRecord[],
    options: Pick<ConsumerOptions, "throttleDelaySeconds">,
  ): Map<number, DeferredRecord[]> {
    const plan = new Map<number, DeferredRecord[]>();
    if (this.deferred.size === 0) return plan;
    const keys = this.writtenKeys();
    for (const { record, message } of parsed) {
      const id = record.messageId;
      const entry = this.deferred.get(id);
      if (!entry || this.hard.has(id) || !failed.has(id)) continue;
      const next = this.rest(message, keys.done.get(id), keys.open.get(id));
      if (!next) continue;
      const delay = entry.throttled ? (options.throttleDelaySeconds ?? DEFAULT_THROTTLE_DELAY_SECONDS) : 0;
      const list = plan.get(delay) ?? [];
      list.push({ record, message: next });
      plan.set(delay, list);
    }
    return plan;
  }

  /** Per deferred record, the keys whose writes all ended written, and keys with any other end. */
  private writtenKeys(): { done: Map<string, Set<string>>; open: Map<string, Set<string>> } {
    const done = new Map<string, Set<string>>();
    const open = new Map<string, Set<string>>();
    for (const { key, written, records } of this.outcomes) {
      const into = written ? done : open;
      for (const id of records) {
        if (!this.deferred.has(id)) continue;
        const set = into.get(id) ?? new Set<string>();
        set.add(keyId(key));
        into.set(id, set);
      }
    }
    return { done, open };
  }

  /** What is left of a record's message: for keys, the keys not written (a written one twice is harmless). */
  private rest(
    message: QueueMessage,
    done: ReadonlySet<string> = new Set(),
    open: ReadonlySet<string> = new Set(),
  ): QueueMessage | undefined {
    if (message.kind === "range") return message;
    if (message.kind !== "keys") return undefined;
    // A key is left out only when every write for it ended written; keys this record's writes do
    // not name (a key the database spells differently) stay in.
    const keys = message.keys.filter((key) => {
      const k = keyId(key.map((v) => String(v)));
      return !done.has(k) || open.has(k);
    });
    return keys.length === 0 ? undefined : { ...message, keys };
  }
}
