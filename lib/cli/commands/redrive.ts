import { readFile, writeFile } from "node:fs/promises";
import { SlotsyncError } from "../../errors";
import { type RedriveResult, redriveDeadLetters, redriveKeptLetters } from "../../queue";
import { createSqsClient } from "../../runtime";
import { defineCommand, EXIT } from "../command";
import { UsageError } from "../flags";
import { parseDeadLetterLines } from "../sync/dead-letter-file";

export const redrive = defineCommand({
  name: "redrive",
  summary: "move dead letters back to the queue after the cause is fixed (filter by reason)",
  usage: [
    "redrive [--reason <text>] [--dry-run] [--max N]",
    "redrive --from-file <file> [--reason <text>] [--dry-run]",
  ],
  description: `Moves messages from the dead-letter queue (SQS_DLQ_URL) back to the queue
(SQS_QUEUE_URL), once the cause in their reason is fixed: a plugin corrected and deployed, a row
repaired, a mapping changed. Each letter's body goes back unchanged and is deleted from the DLQ only
after the queue accepted it; the consumers then build the documents again. A letter that failed for
one key holds that key alone.

--reason keeps only letters whose slotsync-reason attribute contains the text (case-insensitive),
e.g. --reason build-failed or --reason 'plugin "Price"'; the others stay in the DLQ. --dry-run counts
what would move and moves nothing. Prints the counts per reason kind (the reason's text before its
first colon: build-failed, schema-drift, document … rejected, unknown message version …).

--from-file replays the dead-letter file slotsync run writes when it has no DLQ
(.slotsync/dead-letters.jsonl, or SLOTSYNC_DEAD_LETTER_FILE) into the queue (SQS_QUEUE_URL) instead:
the letters SQS accepted are removed from the file, the others stay in it.

Exit codes: 0 done (also when nothing matched); 1 failure (SQS unreachable; what was moved stays
moved); 2 bad usage or configuration.

Environment: SQS_QUEUE_URL, SQS_DLQ_URL, SQS_ENDPOINT, AWS_REGION.`,
  flags: {
    reason: {
      type: "string",
      value: "<text>",
      description: "only letters whose reason contains this text (case-insensitive)",
    },
    "dry-run": { type: "boolean", description: "count what would move; move nothing" },
    "from-file": {
      type: "string",
      value: "<file>",
      description: "replay the dead-letter file of slotsync run into the queue instead of the DLQ",
    },
    max: { type: "integer", value: "<N>", min: 1, max: 10_000_000, description: "look at most N letters" },
  },
  async run(ctx) {
    const config = ctx.config({ queue: true });
    const queue = config.queue;
    const file = ctx.flags["from-file"];
    if (file !== undefined) {
      const client = createSqsClient(queue);
      try {
        const result = await replayFile(file, {
          client,
          queueUrl: queue.url,
          ...(ctx.flags.reason === undefined ? {} : { reason: ctx.flags.reason }),
          dryRun: ctx.flags["dry-run"],
        });
        printResult(ctx.stdout, result, ctx.flags["dry-run"], ctx.flags.reason, `in ${file}`);
        return EXIT.ok;
      } finally {
        client.destroy();
      }
    }
    if (!queue.dlqUrl) {
      throw new UsageError("SQS_DLQ_URL is required: the dead-letter queue to move messages from", {
        fix: "set SQS_DLQ_URL to the DLQ's URL (the stack's DeadLetterQueueUrl output)",
      });
    }
    const client = createSqsClient(queue);
    try {
      const result = await redriveDeadLetters({
        client,
        dlqUrl: queue.dlqUrl,
        queueUrl: queue.url,
        ...(ctx.flags.reason === undefined ? {} : { reason: ctx.flags.reason }),
        ...(ctx.flags.max === undefined ? {} : { max: ctx.flags.max }),
        dryRun: ctx.flags["dry-run"],
      });
      printResult(ctx.stdout, result, ctx.flags["dry-run"], ctx.flags.reason, "in the DLQ");
      return EXIT.ok;
    } finally {
      client.destroy();
    }
  },
});

function printResult(
  out: { write(text: string): unknown },
  result: RedriveResult,
  dryRun: boolean | undefined,
  reason: string | undefined,
  where: string,
): void {
  const verb = dryRun ? "would move" : "moved";
  const filter = reason === undefined ? "" : ` (reason contains "${reason}")`;
  out.write(`${verb} ${result.moved} of ${result.seen} dead letters back to the queue${filter}\n`);
  for (const [kind, n] of Object.entries(result.byReason).sort((a, b) => b[1] - a[1])) {
    out.write(`  ${n}\t${kind}\n`);
  }
  if (result.skipped > 0) out.write(`${result.skipped} left ${where}: their reason did not match\n`);
}

/**
 * Sends the matching letters of a dead-letter file to the queue, then writes the file again with
 * the letters that were not sent: a failure part-way leaves every letter in the file.
 */
async function replayFile(
  path: string,
  options: Parameters<typeof redriveKeptLetters>[1],
): Promise<RedriveResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SlotsyncError(`cannot read the dead-letter file ${path}: ${(error as Error).message}`, {
      cause: error,
      where: path,
      fix: "name the file slotsync run wrote (default .slotsync/dead-letters.jsonl, or SLOTSYNC_DEAD_LETTER_FILE)",
    });
  }
  const lines = parseDeadLetterLines(text, path);
  const result = await redriveKeptLetters(lines, options);
  if (result.sent.size > 0) {
    const kept = lines.filter((_, i) => !result.sent.has(i)).map((l) => `${JSON.stringify(l)}\n`);
    await writeFile(path, kept.join(""), "utf8");
  }
  return result;
}
