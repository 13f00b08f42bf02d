import type pg from "pg";
import type { SlotsyncConfig } from "../../config";
import { slotName } from "../../config";
import { connectDatabase } from "../../database";
import {
  applyReplicaIdentityFixes,
  type DatabaseFacts,
  inspectDatabase,
  type PrerequisiteProblem,
} from "../../prereq";
import { readSchema } from "../../runtime";
import {
  checkSchema,
  describeSource,
  SchemaError,
  type SchemaProblem,
  type SchemaSpec,
  selfJoinNotes,
} from "../../schema";
import { type CommandContext, defineCommand, EXIT, type FlagSpecs } from "../command";

const flags = {
  schema: {
    type: "string",
    value: "<file|url>",
    description: "schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
  },
  "fix-replica-identity": {
    type: "boolean",
    description: "run the ALTER TABLE … REPLICA IDENTITY FULL statements instead of reporting them",
  },
  offline: { type: "boolean", description: "check the schema file only, even when PG_URL is set" },
} as const satisfies FlagSpecs;

export const validate = defineCommand({
  name: "validate",
  summary: "check a schema (and with PG_URL the database) for everything slotsync needs",
  usage: ["validate --schema <file|url> [--fix-replica-identity] [--offline]"],
  description: `Checks schema.json: its structure and, when PG_URL is set, the tables, columns and keys it
names, plus the server and role: wal_level=logical (rds.logical_replication on RDS), the REPLICATION
attribute (or rds_replication), USAGE and SELECT on every table, the wal2json plugin (a temporary
slot is created and dropped), a free replication slot, and REPLICA IDENTITY FULL where deletes and
re-parenting need the old row. Each problem is one line on stdout, "<path>: <message>", with the SQL
that fixes it when there is one. A table joined to itself (a self-referencing foreign key, read
the way PGSync's node example means it: a child is a row that points at its parent) gets one line
saying which way it was read.

Exit codes: 0 valid; 2 problems found (or bad usage/configuration); 1 the check itself failed
(database unreachable).

Environment: SCHEMA or SCHEMA_URL (unless --schema), PG_URL (optional), SLOTSYNC_SLOT.`,
  flags,
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    const config = ctx.config({ schema: true });
    const label = describeSource(config.schema);
    let spec: SchemaSpec;
    try {
      spec = await readSchema(config, ctx.env);
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      return reportProblems(ctx, label, error.problems, []);
    }
    if (!config.pgUrl || ctx.flags.offline) {
      ctx.stdout.write(`${label}: valid (${plural(spec.length, "index", "indices")})\n`);
      if (!config.pgUrl) ctx.stderr.write("slotsync: PG_URL is not set: the database was not checked\n");
      return EXIT.ok;
    }
    const client = await connectDatabase(config.pgUrl, "slotsync-validate");
    try {
      return await validateDatabase(ctx, config, client, spec, label);
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});

type ValidateContext = CommandContext<typeof flags>;

async function validateDatabase(
  ctx: ValidateContext,
  config: SlotsyncConfig,
  client: pg.Client,
  spec: SchemaSpec,
  label: string,
): Promise<number> {
  const check = await checkSchema(spec, client);
  const { rows } = await client.query<{ database: string }>("SELECT current_database() AS database");
  const database = rows[0]?.database ?? "";
  const slot = slotName(config);
  const inspection = await inspectDatabase(client, {
    slot,
    ...(check.resolved ? { schema: check.resolved } : {}),
  });
  let prereq = inspection.problems;
  if (ctx.flags["fix-replica-identity"]) {
    const { fixed, failed } = await applyReplicaIdentityFixes(client, prereq);
    for (const p of fixed) ctx.stdout.write(`${p.path}: fixed: ${p.fix}\n`);
    prereq = [...prereq.filter((p) => p.code !== "replica_identity"), ...failed];
  }
  if (check.problems.length > 0 || prereq.length > 0) {
    return reportProblems(ctx, label, check.problems, prereq);
  }
  ctx.stdout.write(`${label}: valid (${plural(spec.length, "index", "indices")})\n`);
  if (check.resolved) for (const note of selfJoinNotes(check.resolved)) ctx.stdout.write(`${note}\n`);
  ctx.stdout.write(`database ${database}: ready (${readySummary(inspection.facts, slot)})\n`);
  return EXIT.ok;
}

function reportProblems(
  ctx: ValidateContext,
  label: string,
  schema: readonly SchemaProblem[],
  database: readonly PrerequisiteProblem[],
): number {
  for (const p of schema) ctx.stdout.write(`${p.path ? `${p.path}: ` : ""}${p.message}\n`);
  for (const p of database) ctx.stdout.write(`${prerequisiteLine(p)}\n`);
  const total = schema.length + database.length;
  ctx.stderr.write(`slotsync: ${label}: ${plural(total, "problem", "problems")}\n`);
  return EXIT.usage;
}

/** `<path>: <message> — run: <SQL>`, the way validate prints a database problem. */
export function prerequisiteLine(p: PrerequisiteProblem): string {
  const also = p.code === "replica_identity" ? " (or pass --fix-replica-identity)" : "";
  return `${p.path}: ${p.message}${p.fix ? ` — run: ${p.fix}${also}` : ""}`;
}

function readySummary(facts: DatabaseFacts, slot: string): string {
  const free = facts.maxReplicationSlots - facts.usedReplicationSlots;
  return [
    `wal_level ${facts.walLevel}`,
    `role "${facts.role}" may replicate`,
    `wal2json ${facts.wal2json}`,
    facts.slot
      ? `slot "${slot}" exists`
      : `slot "${slot}" not created yet, ${free} of ${facts.maxReplicationSlots} replication slots free`,
  ].join(", ");
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A schema with no indices, for naming the slot when the schema itself does not resolve. */
