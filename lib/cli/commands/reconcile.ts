import { slotName } from "../../config";
import { createPool, lender } from "../../database";
import { SlotsyncError } from "../../errors";
import { DEFAULT_RECONCILE_OPTIONS, type ReconcileProgress, reconcileSlice } from "../../reconcile";
import { defineCommand, EXIT } from "../command";
import { openRepairSession, SCHEMA_INDEX_FLAGS } from "./repair-shared";

export const reconcile = defineCommand({
  name: "reconcile",
  summary:
    "make the index equal to the database: delete documents whose root row is gone, write missing ones",
  usage: ["reconcile --schema <file|url> [--index <name>] [--rebuild] [--dry-run]"],
  description: `Compares each index (the alias named in the schema) with the root table and repairs it: a
document whose root row is gone is deleted, a root row without a document gets one. --rebuild also
builds every other document again. Runs beside a live sync: writes use the slot's confirmed position
as their external version, so any change the sync has not handed on yet wins over the repair.

Memory stays bounded at any size: the index's ids are read page by page (a scroll) and checked
against the database, then the root keys are read in key order and looked up in the index.
--dry-run counts and names examples, and writes nothing.

Exit codes: 0 done; 1 failure (database, search engine, missing slot); 2 bad usage, configuration or schema.

Environment: PG_URL, SCHEMA or SCHEMA_URL (unless --schema), ELASTICSEARCH_URL or OPENSEARCH, SLOTSYNC_SLOT, PLUGINS_DIR.`,
  flags: {
    ...SCHEMA_INDEX_FLAGS,
    rebuild: { type: "boolean", description: "also build every existing document again" },
    "dry-run": { type: "boolean", description: "count and show examples; write nothing" },
  },
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    const session = await openRepairSession(ctx, ctx.flags.index);
    const pool = createPool(session.pgUrl, "slotsync-reconcile", 2);
    try {
      const slot = slotName(ctx.config({}));
      const { rows } = await session.client.query<{ lsn: string | null }>(
        "SELECT (confirmed_flush_lsn - '0/0')::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
        [slot],
      );
      const lsn = rows[0]?.lsn;
      if (!lsn) {
        throw new SlotsyncError(
          `slot "${slot}" does not exist: reconcile versions its writes at the slot's position`,
          {
            where: `slot ${slot}`,
            fix: "run `slotsync bootstrap` first (it creates the slot), or set SLOTSYNC_SLOT to the slot in use",
          },
        );
      }
      const version = BigInt(lsn);
      const dryRun = ctx.flags["dry-run"];
      for (const builder of session.builders) {
        ctx.signal.throwIfAborted();
        const index = builder.index.spec.index;
        const result = await reconcileSlice(
          {
            id: `cli-${index}-${version}`,
            index,
            target: index,
            mode: ctx.flags.rebuild ? "rebuild" : "missing-extra",
            version,
          },
          { connect: lender(pool), builder, sink: session.sink },
          { ...DEFAULT_RECONCILE_OPTIONS, dryRun },
        );
        ctx.stdout.write(describe(index, result.progress, dryRun));
      }
      return EXIT.ok;
    } finally {
      await pool.end().catch(() => undefined);
      await session.close();
    }
  },
});

function describe(index: string, p: ReconcileProgress, dryRun: boolean): string {
  const c = p.counts;
  const verb = dryRun ? "would" : "did";
  const lines = [
    `${index}: ${c.documents} documents and ${c.rows} root rows compared; ${verb} delete ${c.extra} extra, ${verb} write ${c.missing} missing${c.rebuilt > 0 ? `, ${verb} rebuild ${c.rebuilt}` : ""}`,
  ];
  if (p.examples.extra.length > 0) lines.push(`  extra (no root row): ${p.examples.extra.join(", ")}`);
  if (p.examples.missing.length > 0) lines.push(`  missing: ${p.examples.missing.join(", ")}`);
  if (c.rejected > 0)
    lines.push(`  rejected by the engine (${c.rejected}): ${p.examples.rejected.join("; ")}`);
  return `${lines.join("\n")}\n`;
}
