import { hostname } from "node:os";
import { bootstrapSettingsFromEnv, resetSlot } from "../../bootstrap";
import { slotName } from "../../config";
import { connectDatabase } from "../../database";
import {
  backupName,
  describePlan,
  dropPgsync,
  findPgsyncArtefacts,
  type MigrationProgress,
  type MigrationStep,
  type PgsyncArtefacts,
  readProgress,
  writeProgress,
} from "../../migrate";
import { createStateStore, openSchema } from "../../runtime";
import { createDocumentSink, hasIndexAdmin, type SearchSink } from "../../sink";
import { defineCommand, EXIT } from "../command";
import { UsageError } from "../flags";
import { bootstrap } from "./bootstrap";

const flags = {
  schema: {
    type: "string",
    value: "<file|url>",
    description: "PGSync's schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
  },
  yes: { type: "boolean", description: "carry the plan out (without it: print the plan and change nothing)" },
  rollback: {
    type: "boolean",
    description:
      "undo an unfinished migration: PGSync's index back under its name; slotsync's slot, index and records removed",
  },
  "fix-replica-identity": {
    type: "boolean",
    description:
      "let the bootstrap step run the ALTER TABLE … REPLICA IDENTITY FULL statements the schema needs",
  },
  "keep-pgsync": {
    type: "boolean",
    description:
      "stop before the last step: slotsync serves the index, PGSync's slot, triggers and view stay (check, then run again without it, or --rollback)",
  },
  quiet: { type: "boolean", description: "no progress bar during the copy" },
} as const;

export const migrateFromPgsync = defineCommand({
  name: "migrate-from-pgsync",
  summary:
    "take over an index from PGSync: copy behind the same name, then remove PGSync's slot, triggers and view",
  usage: [
    "migrate-from-pgsync [--schema <file|url>] [--yes [--keep-pgsync] [--fix-replica-identity]]",
    "migrate-from-pgsync --rollback --yes",
  ],
  description: `Finds PGSync's artefacts for the schema (its replication slot, its table_notify triggers
and function, its _view materialized view, its index with _meta) and prints the plan. With --yes it
carries it out, one recorded step at a time (run it again to resume after an interruption):

  1. backup: clone PGSync's concrete index to <index>-pgsync-backup (kept for --rollback);
  2. bootstrap: slotsync's slot and a new index, copied while live changes go to both; one atomic
     _aliases call then removes PGSync's index and adds the alias of the same name: the name the
     application queries answers throughout;
  3. drop-pgsync: PGSync's triggers, view, function (kept if other PGSync indices of the database
     use them) and its slot, which otherwise holds WAL back forever.

Stop PGSync's daemon before --yes. --keep-pgsync stops before step 3, to check the new index
first (run again without it to finish). Until step 3, --rollback --yes undoes the migration: slotsync's
slot, records and index are removed and the backup is cloned back under the index name, so
PGSync can be started again where it stopped. PGSync's Redis keys and checkpoint file are outside
the database: the plan names them for you to delete.

Exit codes: 0 done (or the plan printed); 1 failure; 2 bad usage or configuration.

Environment: as bootstrap (PG_URL or PGSync's PG_*, ELASTICSEARCH_* or OPENSEARCH, SCHEMA).`,
  flags,
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    const config = ctx.config({ pg: true, schema: true, sink: true });
    const sink = createDocumentSink(config.sink);
    if (!hasIndexAdmin(sink)) {
      throw new UsageError("migrate-from-pgsync needs a search engine sink", {
        fix: "set ELASTICSEARCH_URL (or PGSync's ELASTICSEARCH_HOST) to the cluster PGSync writes to, without SINK",
      });
    }
    const db = await connectDatabase(config.pgUrl, "slotsync-migrate");
    try {
      const schema = await openSchema(config, ctx.env, db);
      const slot = slotName(config);
      const store = createStateStore(config.state);
      const progress = await readProgress(store, slot);
      const found = await findPgsyncArtefacts(db, schema, sink, slot);
      const out = ctx.stdout;
      const save = (p: MigrationProgress) => writeProgress(store, slot, p, new Date(ctx.now()));

      if (ctx.flags.rollback) {
        if (!ctx.flags.yes) throw new UsageError("--rollback needs --yes", { fix: "add --yes to roll back" });
        if (progress.done.includes("drop-pgsync")) {
          throw new UsageError("the migration is final: PGSync's slot and triggers are gone", {
            fix: "to go back to PGSync run its bootstrap again (it rebuilds its slot, triggers and index)",
          });
        }
        await resetSlot(
          { slot, sink, db, schema, store, holder: `${hostname()}:${process.pid}` },
          {
            deleteIndices: true,
            yes: true,
            targetsCacheMs: bootstrapSettingsFromEnv(ctx.env).targetsCacheMs,
          },
        );
        out.write(`removed slotsync's slot ${slot}, its records and its indices\n`);
        for (const [index, backup] of Object.entries(progress.backups)) {
          if (!(await sink.indexExists(backup))) continue;
          if (!(await sink.indexExists(index))) await sink.cloneIndex(backup, index);
          await sink.deleteIndex(backup);
          out.write(`restored ${index} from ${backup}\n`);
        }
        out.write("rolled back: start PGSync again; it resumes from its own slot\n");
        return EXIT.ok;
      }

      for (const line of describePlan(found, { slotsyncSlot: slot, done: progress.done }))
        out.write(`${line}\n`);
      if (!ctx.flags.yes) {
        out.write("\nnothing changed: run again with --yes to carry the plan out\n");
        return EXIT.ok;
      }
      const step = async (name: MigrationStep, work: () => Promise<void>) => {
        if (progress.done.includes(name)) return;
        out.write(`\n${name}...\n`);
        await work();
        progress.done.push(name);
        await save(progress);
        out.write(`${name}: done\n`);
      };
      await step("backup", () => backup(sink, found, progress));
      await step("bootstrap", async () => {
        const code = await bootstrap.run({
          ...ctx,
          command: bootstrap,
          flags: {
            ...(ctx.flags.schema === undefined ? {} : { schema: ctx.flags.schema }),
            "fix-replica-identity": ctx.flags["fix-replica-identity"],
            quiet: ctx.flags.quiet,
          } as Parameters<typeof bootstrap.run>[0]["flags"],
        });
        if (code !== EXIT.ok) throw new StepFailed("bootstrap", code);
      });
      if (ctx.flags["keep-pgsync"]) {
        out.write(
          `\nslotsync serves ${found.indices.map((i) => i.name).join(", ")}; PGSync's artefacts are kept (--keep-pgsync): run again without it to drop them, or --rollback --yes to go back\n`,
        );
        return EXIT.ok;
      }
      await step("drop-pgsync", async () => {
        for (const statement of await dropPgsync(db, found)) out.write(`  ${statement};\n`);
        for (const backupIndex of Object.values(progress.backups)) {
          await sink.deleteIndex(backupIndex);
          out.write(`  deleted ${backupIndex}\n`);
        }
      });
      out.write("\nmigrated: slotsync serves ");
      out.write(
        `${found.indices.map((i) => i.name).join(", ")}; PGSync's slot, triggers and view are gone\n`,
      );
      return EXIT.ok;
    } catch (error) {
      if (error instanceof StepFailed) {
        ctx.stderr.write(
          `slotsync: the ${error.step} step failed (see above); run the same command again to resume\n`,
        );
        return error.code;
      }
      throw error;
    } finally {
      await db.end().catch(() => undefined);
      await sink.close();
    }
  },
});

class StepFailed extends Error {
  constructor(
    readonly step: MigrationStep,
    readonly code: number,
  ) {
    super(`${step} failed`);
  }
}

/** Clones each concrete PGSync index to its backup name (once), recording the pair. */
async function backup(sink: SearchSink, found: PgsyncArtefacts, progress: MigrationProgress): Promise<void> {
  for (const index of found.indices) {
    if (index.kind !== "concrete") continue;
    const name = backupName(index.name);
    if (!(await sink.indexExists(name))) await sink.cloneIndex(index.name, name);
    progress.backups[index.name] = name;
  }
}
