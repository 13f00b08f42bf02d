import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { QueueError } from "./errors";
import { resolveLimits, utf8Bytes } from "./pack";
import { DEAD_LETTER_ATTRIBUTES } from "./publisher";
import { sendEntries } from "./sqs-send";

/** What {@link redriveDeadLetters} should move. */
export interface RedriveOptions {
  client: SQSClient;
  /** The dead-letter queue read from. */
  dlqUrl: string;
  /** The queue the messages go back to. */
  queueUrl: string;
  /** Only letters whose `slotsync-reason` contains this text (case-insensitive). */
  reason?: string;
  /** Count what would move, move nothing. */
  dryRun?: boolean;
  /** Stop after this many letters were looked at (default: all). */
  max?: number;
  /** How long a looked-at letter stays hidden from this pass (default 60 s; shown again at the end). */
  visibilitySeconds?: number;
}

/** What a redrive did: counts in all and per reason kind (the reason's text before its first colon). */
export interface RedriveResult {
  /** Letters looked at. */
  seen: number;
  /** Moved back to the queue (or, with dryRun, that would be). */
  moved: number;
  /** Left in the dead-letter queue: their reason did not match. */
  skipped: number;
  /** Moved letters per reason kind, e.g. `build-failed` → 3. */
  byReason: Record<string, number>;
}

/** `build-failed: plugin …` → `build-failed`; a letter without a reason → `(no reason)`. */
export function reasonKind(reason: string | undefined): string {
  if (!reason) return "(no reason)";
  const colon = reason.indexOf(":");
  return (colon > 0 ? reason.slice(0, colon) : reason).trim().slice(0, 80);
}

/**
 * Moves dead letters back to the queue, after the cause was fixed: each matching letter's body is
 * sent to the queue unchanged and deleted from the DLQ only once the queue accepted it, so a
 * failure part-way leaves it in the DLQ (nothing is lost; a letter sent twice is harmless, the
 * consumers are idempotent). Letters that do not match, and every letter of a dry run, are made
 * visible again at the end.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveResult> {
  const { client } = options;
  const result: RedriveResult = { seen: 0, moved: 0, skipped: 0, byReason: {} };
  const needle = options.reason?.toLowerCase();
  const limits = resolveLimits();
  const keep: Message[] = [];
  let empty = 0;
  try {
    while (empty < 2 && (options.max === undefined || result.seen < options.max)) {
      const room = options.max === undefined ? 10 : Math.min(10, options.max - result.seen);
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: options.dlqUrl,
          MaxNumberOfMessages: room,
          WaitTimeSeconds: 1,
          VisibilityTimeout: options.visibilitySeconds ?? 60,
          MessageAttributeNames: ["All"],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      const matching: Message[] = [];
      for (const m of messages) {
        result.seen++;
        const reason = m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue;
        if (needle !== undefined && !(reason ?? "").toLowerCase().includes(needle)) {
          result.skipped++;
          keep.push(m);
          continue;
        }
        const kind = reasonKind(reason);
        result.byReason[kind] = (result.byReason[kind] ?? 0) + 1;
        result.moved++;
        matching.push(m);
      }
      if (matching.length === 0) continue;
      if (options.dryRun) {
        keep.push(...matching);
        continue;
      }
      const bodies = matching.map((m) => m.Body ?? "");
      await sendEntries(
        bodies.map((body) => ({ body, bytes: utf8Bytes(body) })),
        limits,
        { client, queueUrl: options.queueUrl },
      );
      const deleted = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.dlqUrl,
          Entries: matching.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
        }),
      );
      if ((deleted.Failed ?? []).length > 0) {
        // Sent, but still in the DLQ: it would be redriven again (harmlessly); say so.
        throw new QueueError(
          `${deleted.Failed?.length} redriven letters could not be deleted from the DLQ: ${deleted.Failed?.[0]?.Message ?? ""}`,
          { retryable: true, fix: "run slotsync redrive again; a letter sent twice is harmless" },
        );
      }
    }
  } finally {
    await showAgain(client, options.dlqUrl, keep);
  }
  return result;
}

/** A dead letter kept outside SQS (the dead-letter file of `slotsync run`). */
export interface KeptLetter {
  body: string;
  reason: string;
}

/**
 * Sends kept dead letters (matching `reason`, case-insensitive) back to the queue, unchanged.
 * Resolves once SQS accepted every one of them; returns the counts and which letters were sent
 * (by position), so the caller removes only those from where it keeps them.
 */
export async function redriveKeptLetters(
  letters: readonly KeptLetter[],
  options: Pick<RedriveOptions, "client" | "queueUrl" | "reason" | "dryRun">,
): Promise<RedriveResult & { sent: Set<number> }> {
  const result: RedriveResult & { sent: Set<number> } = {
    seen: letters.length,
    moved: 0,
    skipped: 0,
    byReason: {},
    sent: new Set(),
  };
  const needle = options.reason?.toLowerCase();
  const matching: number[] = [];
  letters.forEach((letter, i) => {
    if (needle !== undefined && !letter.reason.toLowerCase().includes(needle)) {
      result.skipped++;
      return;
    }
    const kind = reasonKind(letter.reason);
    result.byReason[kind] = (result.byReason[kind] ?? 0) + 1;
    result.moved++;
    matching.push(i);
  });
  if (options.dryRun || matching.length === 0) return result;
  await sendEntries(
    matching.map((i) => {
      const body = letters[i]?.body ?? "";
      return { body, bytes: utf8Bytes(body) };
    }),
    resolveLimits(),
    { client: options.client, queueUrl: options.queueUrl },
  );
  for (const i of matching) result.sent.add(i);
  return result;
}

/** Makes letters this pass kept hidden visible again at once. */
async function showAgain(client: SQSClient, dlqUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const part = messages.slice(i, i + 10);
    await client
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: dlqUrl,
          Entries: part.map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle ?? "",
            VisibilityTimeout: 0,
          })),
        }),
      )
      .catch(() => undefined); // they become visible anyway when the timeout passes
  }
}
