import { redriveDeadLetters } from "../../queue";
import { createSqsClient } from "../../runtime";
import { defineCommand, EXIT } from "../command";
import { UsageError } from "../flags";

export const redrive = defineCommand({
  name: "redrive",
  summary: "move dead letters back to the queue after the cause is fixed (filter by reason)",
  usage: ["redrive [--reason <text>] [--dry-run] [--max N]"],
  description: `Moves messages from the dead-letter queue (SQS_DLQ_URL) back to the queue
(SQS_QUEUE_URL), once the cause in their reason is fixed: a plugin corrected and deployed, a row
repaired, a mapping changed. Each letter's body goes back unchanged and is deleted from the DLQ only
after the queue accepted it; the consumers then build the documents again. A letter that failed for
one key holds that key alone.

--reason keeps only letters whose slotsync-reason attribute contains the text (case-insensitive),
e.g. --reason build-failed or --reason 'plugin "Price"'; the others stay in the DLQ. --dry-run counts
what would move and moves nothing. Prints the counts per reason kind (the reason's text before its
first colon: build-failed, schema-drift, document … rejected, unknown message version …).

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
    max: { type: "integer", value: "<N>", min: 1, max: 10_000_000, description: "look at most N letters" },
  },
  async run(ctx) {
    const config = ctx.config({ queue: true });
    const queue = config.queue;
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
      const verb = ctx.flags["dry-run"] ? "would move" : "moved";
      const filter = ctx.flags.reason === undefined ? "" : ` (reason contains "${ctx.flags.reason}")`;
      ctx.stdout.write(`${verb} ${result.moved} of ${result.seen} dead letters back to the queue${filter}\n`);
      for (const [kind, n] of Object.entries(result.byReason).sort((a, b) => b[1] - a[1])) {
        ctx.stdout.write(`  ${n}\t${kind}\n`);
      }
      if (result.skipped > 0)
        ctx.stdout.write(`${result.skipped} left in the DLQ: their reason did not match\n`);
      return EXIT.ok;
    } finally {
      client.destroy();
    }
  },
});
