import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { SlotsyncError } from "../../errors";
import type { DeadLetter } from "../../queue";

/** Where `slotsync run` keeps dead letters when it has no DLQ, unless told otherwise. */
export const DEFAULT_DEAD_LETTER_FILE = ".slotsync/dead-letters.jsonl";

/** One line of the dead-letter file. */
export interface DeadLetterLine {
  /** When it was written (ISO 8601). */
  at: string;
  /** Why: the same text the DLQ's `slotsync-reason` attribute carries. */
  reason: string;
  /** The record it came from, and how often that was received. */
  messageId?: string;
  receiveCount?: number;
  /** The queue message, unchanged: `slotsync redrive --from-file` sends it again. */
  body: string;
}

/**
 * The dead-letter path of `slotsync run` without SQS: each letter appended to `path` as one JSON
 * line (reason and message), so nothing is lost and the sync goes on. Resolves once the lines are
 * written; a failed write rejects, and the records then come again instead of being dropped.
 */
export function deadLetterFile(
  path: string,
  now: () => number = Date.now,
): (letters: DeadLetter[]) => Promise<void> {
  return async (letters) => {
    if (letters.length === 0) return;
    const at = new Date(now()).toISOString();
    const text = letters
      .map((l) =>
        JSON.stringify({
          at,
          reason: l.reason,
          ...(l.messageId === undefined ? {} : { messageId: l.messageId }),
          ...(l.receiveCount === undefined ? {} : { receiveCount: l.receiveCount }),
          body: l.body,
        } satisfies DeadLetterLine),
      )
      .join("\n");
    try {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, `${text}\n`, "utf8");
    } catch (error) {
      throw new SlotsyncError(`cannot write dead letters to ${path}: ${(error as Error).message}`, {
        cause: error,
        where: path,
        retryable: true,
        fix: "make the directory writable, or point --dead-letters (SLOTSYNC_DEAD_LETTER_FILE) elsewhere",
      });
    }
  };
}

/** Reads the lines of a dead-letter file; a line that is not one names its number. */
export function parseDeadLetterLines(text: string, path: string): DeadLetterLine[] {
  const out: DeadLetterLine[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const l = parsed as Partial<DeadLetterLine> | undefined;
    if (!l || typeof l.body !== "string" || typeof l.reason !== "string") {
      throw new SlotsyncError(`line ${i + 1} is not a dead letter written by slotsync run`, {
        where: `${path}:${i + 1}`,
        fix: "remove or correct the line, then run the command again",
      });
    }
    out.push(l as DeadLetterLine);
  }
  return out;
}
