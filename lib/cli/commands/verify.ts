import { createPool, lender } from "../../database";
import { type VerifyReport, verifyIndex } from "../../reconcile";
import { defineCommand, EXIT } from "../command";
import { UsageError } from "../flags";
import { openRepairSession, SCHEMA_INDEX_FLAGS } from "./repair-shared";

/** Exit code of `verify` when the index and the database differ. */
export const EXIT_DIVERGED = 3;

export const verify = defineCommand({
  name: "verify",
  summary: "compare the index with the documents the database builds: missing, extra, different",
  usage: ["verify --schema <file|url> [--index <name>] [--sample N | --all] [--settle <seconds>] [--json]"],
  description: `Builds documents from the database, exactly as render does, and compares them with the index
(the alias named in the schema), both ways: root rows whose document is missing, documents whose
root row is gone (extra), and documents whose source differs. --sample N (the default, N = 100)
checks N random root rows and N random documents; --all checks every one, page by page.

What looks wrong is looked at again after --settle seconds (default 2), and only what is still wrong
is reported: a change on its way through the queue is not a divergence. Examples name document ids.
Fix what it finds with slotsync reconcile (missing, extra) or slotsync reconcile --rebuild (different).

Exit codes: 0 equal; 3 diverged (the report says how); 1 failure (database, search engine);
2 bad usage, configuration or schema.

Environment: PG_URL, SCHEMA or SCHEMA_URL (unless --schema), ELASTICSEARCH_URL or OPENSEARCH, PLUGINS_DIR.`,
  flags: {
    ...SCHEMA_INDEX_FLAGS,
    sample: {
      type: "integer",
      value: "<N>",
      min: 1,
      max: 10_000,
      description: "check N random root rows and N random documents (default 100)",
    },
    all: { type: "boolean", description: "check every root row and every document" },
    settle: {
      type: "number",
      value: "<seconds>",
      description: "look again at discrepancies after this pause; only lasting ones count (default 2)",
    },
    json: { type: "boolean", description: "print the reports as JSON" },
  },
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    if (ctx.flags.all && ctx.flags.sample !== undefined) {
      throw new UsageError("--sample and --all exclude each other", { fix: "give one of them" });
    }
    const settle = ctx.flags.settle ?? 2;
    if (settle < 0 || settle > 600) {
      throw new UsageError(`--settle must be between 0 and 600 seconds, got ${settle}`, {
        fix: "e.g. --settle 5",
      });
    }
    const session = await openRepairSession(ctx, ctx.flags.index);
    const pool = createPool(session.pgUrl, "slotsync-verify", 2);
    try {
      const reports: VerifyReport[] = [];
      for (const builder of session.builders) {
        ctx.signal.throwIfAborted();
        reports.push(
          await verifyIndex(
            { connect: lender(pool), builder, sink: session.sink },
            {
              scope: ctx.flags.all ? "all" : (ctx.flags.sample ?? 100),
              target: builder.index.spec.index,
              settleMs: settle * 1000,
            },
          ),
        );
      }
      ctx.stdout.write(
        ctx.flags.json ? `${JSON.stringify(reports, null, 2)}\n` : reports.map(describe).join(""),
      );
      return reports.some((r) => r.diverged > 0) ? EXIT_DIVERGED : EXIT.ok;
    } finally {
      await pool.end().catch(() => undefined);
      await session.close();
    }
  },
});

function describe(r: VerifyReport): string {
  const head = `${r.index}: ${r.diverged === 0 ? "equal" : "DIVERGED"} (${r.scope}, ${r.compared} compared): ${r.missing.count} missing, ${r.extra.count} extra, ${r.different.count} different`;
  const lines = [head];
  if (r.missing.count > 0) lines.push(`  missing: ${r.missing.examples.join(", ")}`);
  if (r.extra.count > 0) lines.push(`  extra: ${r.extra.examples.join(", ")}`);
  if (r.different.count > 0) lines.push(`  different: ${r.different.examples.join(", ")}`);
  return `${lines.join("\n")}\n`;
}
