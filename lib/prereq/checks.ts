import { randomBytes } from "node:crypto";
import { displayName, type Queryable, quoteIdent, quoteLiteral, type ResolvedSchema } from "../schema";
import type { DatabaseFacts, DatabaseInspection, PrerequisiteOptions, PrerequisiteProblem } from "./types";

interface ServerRow {
  database: string;
  role: string;
  server_version: string;
  server_version_num: number;
  wal_level: string;
  max_replication_slots: string;
  rds_logical_replication: string | null;
  rolsuper: boolean;
  rolreplication: boolean;
  rds_replication: boolean;
  slots_used: number;
}

const SERVER_SQL = `
  SELECT current_database() AS database, current_user AS role,
         current_setting('server_version') AS server_version,
         current_setting('server_version_num')::int AS server_version_num,
         current_setting('wal_level') AS wal_level,
         current_setting('max_replication_slots') AS max_replication_slots,
         current_setting('rds.logical_replication', true) AS rds_logical_replication,
         r.rolsuper, r.rolreplication,
         COALESCE((SELECT pg_has_role(current_user, g.oid, 'MEMBER') FROM pg_roles g
                    WHERE g.rolname = 'rds_replication'), false) AS rds_replication,
         (SELECT count(*) FROM pg_replication_slots)::int AS slots_used
    FROM pg_roles r WHERE r.rolname = current_user`;

/**
 * Checks what slotsync needs of the database beyond the schema itself: `wal_level = logical`
 * (and `rds.logical_replication` on RDS), a role that may use replication slots, USAGE and SELECT
 * on every table the schema reads, the wal2json plugin, a free replication slot (or the right
 * existing one), and the replica identity the change resolver needs. Runs on one session: the
 * wal2json test creates a temporary slot (gone at session end) and drops it.
 */
export async function inspectDatabase(
  client: Queryable,
  options: PrerequisiteOptions = {},
): Promise<DatabaseInspection> {
  const problems: PrerequisiteProblem[] = [];
  const { rows } = await client.query<ServerRow>(SERVER_SQL);
  const row = rows[0];
  if (!row) throw new Error("current_user is not in pg_roles");
  const rds = row.rds_logical_replication ?? undefined;
  const facts: DatabaseFacts = {
    database: row.database,
    role: row.role,
    serverVersion: row.server_version,
    walLevel: row.wal_level,
    rdsLogicalReplication: rds === "" ? undefined : rds,
    superuser: row.rolsuper,
    canReplicate: row.rolsuper || row.rolreplication || row.rds_replication,
    maxReplicationSlots: Number(row.max_replication_slots),
    usedReplicationSlots: row.slots_used,
    wal2json: "unchecked",
    slot: undefined,
  };
  const onRds = facts.rdsLogicalReplication !== undefined;

  // pg_current_snapshot(), pg_visible_in_snapshot() and xid8 (13), wal_status of slots (13).
  if (row.server_version_num < MIN_SERVER_VERSION_NUM) {
    problems.push({
      path: "database.server_version",
      code: "server_version",
      message: `PostgreSQL ${facts.serverVersion} is too old: slotsync needs PostgreSQL 13 or later (pg_current_snapshot, xid8, the slots' wal_status); upgrade the server (RDS/Aurora: a major version upgrade)`,
    });
  }

  if (onRds && !["on", "1", "true"].includes(String(facts.rdsLogicalReplication).toLowerCase())) {
    problems.push({
      path: "database.rds.logical_replication",
      code: "rds_logical_replication",
      message:
        "rds.logical_replication is off, so the server cannot decode changes: set it to 1 in the DB parameter group and reboot the instance",
    });
  } else if (facts.walLevel !== "logical") {
    problems.push({
      path: "database.wal_level",
      code: "wal_level",
      message: `wal_level is "${facts.walLevel}"; logical decoding needs "logical" (takes effect after a restart of PostgreSQL)`,
      fix: "ALTER SYSTEM SET wal_level = logical;",
    });
  }

  if (!facts.canReplicate) {
    problems.push({
      path: "database.role",
      code: "replication_privilege",
      message: `role "${facts.role}" may not use replication slots: it has no REPLICATION attribute${onRds ? " and is not a member of rds_replication" : ""}`,
      fix: onRds
        ? `GRANT rds_replication TO ${quoteIdent(facts.role)};`
        : `ALTER ROLE ${quoteIdent(facts.role)} WITH REPLICATION;`,
    });
  }

  if (options.slot) problems.push(...(await legacySlotProblems(client, options.slot)));
  if (options.slot) {
    const slot = await client.query<{
      plugin: string | null;
      database: string | null;
      wal_status: string | null;
    }>("SELECT plugin, database, wal_status FROM pg_replication_slots WHERE slot_name = $1", [options.slot]);
    const s = slot.rows[0];
    if (s) {
      facts.slot = { plugin: s.plugin ?? "", database: s.database ?? "", walStatus: s.wal_status };
      problems.push(...slotProblems(options.slot, facts));
    }
  }
  const freeSlots = facts.maxReplicationSlots - facts.usedReplicationSlots;
  if (!facts.slot && freeSlots <= 0) {
    problems.push({
      path: "database.max_replication_slots",
      code: "replication_slots",
      message: `all ${facts.maxReplicationSlots} replication slots are in use (max_replication_slots); drop unused ones (pg_replication_slots) or raise the limit and restart PostgreSQL`,
      ...(onRds
        ? {}
        : { fix: `ALTER SYSTEM SET max_replication_slots = ${facts.usedReplicationSlots + 4};` }),
    });
  }

  if (options.schema) problems.push(...(await privilegeProblems(client, options.schema, facts.role)));

  const canTest = facts.canReplicate && facts.walLevel === "logical" && freeSlots > 0;
  if ((options.checkWal2json ?? true) && canTest) {
    const outcome = await testWal2json(client, options.wal2jsonTimeoutMs ?? 5000);
    facts.wal2json = outcome.status;
    if (outcome.problem) problems.push(outcome.problem);
  }

  if (options.schema) problems.push(...replicaIdentityProblems(options.schema));
  return { facts, problems };
}

/** `server_version_num` of PostgreSQL 13.0, the oldest slotsync runs on. */
export const MIN_SERVER_VERSION_NUM = 130000;

/**
 * The slot name earlier versions of the CLI used when `SLOTSYNC_SLOT` was unset:
 * `slotsync_<database>`, lower-cased, other characters as `_`, cut to 63 bytes.
 */
export function legacySlotName(database: string): string {
  return `slotsync_${database}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 63);
}

/**
 * A slot under the old default name in this database while the configured one does not exist:
 * bootstrapping now would create a second slot, and the old one would hold WAL for ever.
 */
async function legacySlotProblems(client: Queryable, slot: string): Promise<PrerequisiteProblem[]> {
  const { rows } = await client.query<{ database: string; configured: boolean }>(
    `SELECT current_database() AS database,
            EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS configured`,
    [slot],
  );
  const row = rows[0];
  if (!row || row.configured) return [];
  const legacy = legacySlotName(row.database);
  if (legacy === slot) return [];
  const found = await client.query(
    "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
    [legacy],
  );
  if (found.rows.length === 0) return [];
  return [
    {
      path: "database.slot",
      code: "legacy_slot",
      message: `replication slot "${legacy}" (the default name of earlier slotsync versions) exists in this database, but the configured slot is "${slot}": bootstrapping would create a second slot while "${legacy}" keeps holding WAL. Keep using it with SLOTSYNC_SLOT=${legacy} (CDK: -c slot=${legacy}), or drop it`,
      fix: `SELECT pg_drop_replication_slot(${quoteLiteral(legacy)});`,
    },
  ];
}

/** The problems of {@link inspectDatabase} alone. */
export async function checkPrerequisites(
  client: Queryable,
  options: PrerequisiteOptions = {},
): Promise<PrerequisiteProblem[]> {
  return (await inspectDatabase(client, options)).problems;
}

function slotProblems(name: string, facts: DatabaseFacts): PrerequisiteProblem[] {
  const slot = facts.slot;
  if (!slot) return [];
  const drop = `SELECT pg_drop_replication_slot(${quoteLiteral(name)});`;
  if (slot.plugin !== "wal2json") {
    return [
      {
        path: "database.slot",
        code: "slot",
        message: `replication slot "${name}" exists but ${slot.plugin ? `uses the ${slot.plugin} plugin` : "is a physical slot"}, not wal2json; drop it (or set SLOTSYNC_SLOT to another name) and bootstrap`,
        fix: drop,
      },
    ];
  }
  if (slot.database !== facts.database) {
    return [
      {
        path: "database.slot",
        code: "slot",
        message: `replication slot "${name}" belongs to database "${slot.database}", not "${facts.database}"; set SLOTSYNC_SLOT to another name`,
      },
    ];
  }
  if (slot.walStatus === "lost") {
    return [
      {
        path: "database.slot",
        code: "slot",
        message: `replication slot "${name}" is lost: PostgreSQL removed WAL it needed; run slotsync reset, then slotsync bootstrap`,
      },
    ];
  }
  return [];
}

interface TableRef {
  path: string;
  schema: string;
  name: string;
}

/** Every table of the schema with the path of the node that reads it. */
function tableRefs(schema: ResolvedSchema): TableRef[] {
  const refs: TableRef[] = [];
  for (const index of schema.indices) {
    for (const node of index.nodes) {
      refs.push({ path: `${node.path}.table`, schema: node.table.schema, name: node.table.name });
      if (node.join?.kind === "through") {
        const through = node.join.through;
        refs.push({
          path: `${node.path}.relationship.through_tables[0]`,
          schema: through.schema,
          name: through.name,
        });
      }
      for (const base of node.baseTables) {
        refs.push({ path: `${node.path}.base_tables`, schema: base.schema, name: base.name });
      }
    }
  }
  return refs;
}

async function privilegeProblems(
  client: Queryable,
  schema: ResolvedSchema,
  roleName: string,
): Promise<PrerequisiteProblem[]> {
  const refs = tableRefs(schema);
  if (refs.length === 0) return [];
  const { rows } = await client.query<{ s: string; t: string; usage: boolean; can_select: boolean }>(
    `SELECT x.s, x.t, has_schema_privilege(n.oid, 'USAGE') AS usage,
            has_table_privilege(c.oid, 'SELECT') AS can_select
       FROM unnest($1::text[], $2::text[]) AS x(s, t)
       JOIN pg_namespace n ON n.nspname = x.s
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t`,
    [refs.map((r) => r.schema), refs.map((r) => r.name)],
  );
  const role = quoteIdent(roleName);
  const problems: PrerequisiteProblem[] = [];
  const seenSchemas = new Set<string>();
  const seenTables = new Set<string>();
  for (const ref of refs) {
    const row = rows.find((r) => r.s === ref.schema && r.t === ref.name);
    if (!row) continue;
    if (!row.usage) {
      if (seenSchemas.has(ref.schema)) continue;
      seenSchemas.add(ref.schema);
      problems.push({
        path: ref.path,
        code: "schema_usage",
        message: `role may not use schema "${ref.schema}" (no USAGE), so it cannot read ${displayName(ref)}`,
        fix: `GRANT USAGE ON SCHEMA ${quoteIdent(ref.schema)} TO ${role};`,
      });
    } else if (!row.can_select) {
      const key = JSON.stringify([ref.schema, ref.name]);
      if (seenTables.has(key)) continue;
      seenTables.add(key);
      problems.push({
        path: ref.path,
        code: "select_privilege",
        message: `role may not read ${displayName(ref)} (no SELECT)`,
        fix: `GRANT SELECT ON ${quoteIdent(ref.schema)}.${quoteIdent(ref.name)} TO ${role};`,
      });
    }
  }
  return problems;
}

/**
 * Creates a temporary wal2json slot and drops it. PostgreSQL loads the output plugin before it
 * waits for running transactions to finish (to find a consistent start point), so a test that
 * times out in that wait has already shown that the plugin loads: it counts as available.
 */
async function testWal2json(
  client: Queryable,
  timeoutMs: number,
): Promise<{ status: DatabaseFacts["wal2json"]; problem?: PrerequisiteProblem }> {
  const name = `slotsync_check_${randomBytes(6).toString("hex")}`;
  let created = false;
  try {
    await client.query("BEGIN");
    await client.query("SELECT set_config('statement_timeout', $1, true)", [String(timeoutMs)]);
    await client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json', true)", [name]);
    created = true;
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (code === "57014") return { status: "available" };
    if (code === "58P01") {
      return {
        status: "missing",
        problem: {
          path: "database.wal2json",
          code: "wal2json",
          message:
            "the wal2json output plugin is not installed on the server: install it (Debian/Ubuntu: postgresql-<major>-wal2json; RDS and Aurora include it)",
        },
      };
    }
    return {
      status: "failed",
      problem: {
        path: "database.wal2json",
        code: "wal2json",
        message: `could not create a test slot with wal2json: ${(error as Error).message}`,
      },
    };
  } finally {
    if (created) await client.query("SELECT pg_drop_replication_slot($1)", [name]).catch(() => undefined);
  }
  return { status: "available" };
}

function replicaIdentityProblems(schema: ResolvedSchema): PrerequisiteProblem[] {
  return schema.replicaIdentityNeeds.map((need) => {
    const first = need.reasons[0] ?? "";
    const split = first.indexOf(": ");
    const path = split > 0 ? first.slice(0, split) : `database.${displayName(need.table)}`;
    const reason = split > 0 ? first.slice(split + 2) : first;
    const more = need.reasons.length > 1 ? ` (and ${need.reasons.length - 1} more uses)` : "";
    return {
      path,
      code: "replica_identity",
      message: `${displayName(need.table)} needs REPLICA IDENTITY FULL (it is ${need.current}): ${reason}${more}`,
      fix: need.sql,
    };
  });
}

/** Result of running the replica identity fixes. */
export interface FixResult {
  fixed: PrerequisiteProblem[];
  /** Fixes that failed, with the error in `message` (often: must be owner of the table). */
  failed: PrerequisiteProblem[];
}

/** Runs the `ALTER TABLE … REPLICA IDENTITY FULL` of each replica identity problem. */
export async function applyReplicaIdentityFixes(
  client: Queryable,
  problems: readonly PrerequisiteProblem[],
): Promise<FixResult> {
  const result: FixResult = { fixed: [], failed: [] };
  for (const problem of problems) {
    if (problem.code !== "replica_identity" || !problem.fix) continue;
    try {
      await client.query(problem.fix);
      result.fixed.push(problem);
    } catch (error) {
      result.failed.push({
        ...problem,
        message: `${problem.fix} failed: ${(error as Error).message}; run it as the table's owner`,
      });
    }
  }
  return result;
}
