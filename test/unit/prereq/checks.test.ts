import { describe, expect, it } from "vitest";
import { applyReplicaIdentityFixes, checkPrerequisites, inspectDatabase } from "../../../lib/prereq";
import type { Queryable, ResolvedSchema } from "../../../lib/schema";

interface Server {
  wal_level?: string;
  rds?: string | null;
  super?: boolean;
  replication?: boolean;
  rdsReplication?: boolean;
  max?: number;
  used?: number;
  slot?: { plugin: string; database: string; wal_status: string | null };
  /** What creating the temporary wal2json slot does. */
  wal2json?: "ok" | { code: string; message: string };
  privileges?: { s: string; t: string; usage: boolean; can_select: boolean }[];
  failOn?: RegExp;
  /** `server_version_num`, default 150018. */
  versionNum?: number;
  /** A slot under the old default name `slotsync_shop` exists. */
  legacySlot?: boolean;
}

/** A fake session answering the inspection's queries, recording every statement. */
function fakeDb(server: Server): Queryable & { statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    async query<R extends object>(text: string, values?: unknown[]) {
      statements.push(text.trim().split("\n")[0] ?? "");
      const rows = (r: unknown[]) => ({ rows: r as R[] });
      if (server.failOn?.test(text))
        throw Object.assign(new Error("must be owner of table review"), { code: "42501" });
      if (text.includes("current_setting('wal_level')")) {
        return rows([
          {
            database: "shop",
            role: "syncer",
            server_version: server.versionNum ? `${Math.floor(server.versionNum / 10000)}.0` : "15.18",
            server_version_num: server.versionNum ?? 150018,
            wal_level: server.wal_level ?? "logical",
            max_replication_slots: String(server.max ?? 10),
            rds_logical_replication: server.rds ?? null,
            rolsuper: server.super ?? false,
            rolreplication: server.replication ?? true,
            rds_replication: server.rdsReplication ?? false,
            slots_used: server.used ?? 1,
          },
        ]);
      }
      if (text.includes("AS configured")) return rows([{ database: "shop", configured: !!server.slot }]);
      if (text.includes("AND database = current_database()")) {
        expect(values?.[0]).toBe("slotsync_shop");
        return rows(server.legacySlot ? [{}] : []);
      }
      if (text.includes("FROM pg_replication_slots WHERE slot_name"))
        return rows(server.slot ? [server.slot] : []);
      if (text.includes("has_schema_privilege")) return rows(server.privileges ?? []);
      if (text.includes("pg_create_logical_replication_slot")) {
        const outcome = server.wal2json ?? "ok";
        if (outcome !== "ok") throw Object.assign(new Error(outcome.message), { code: outcome.code });
        expect(values?.[0]).toMatch(/^slotsync_check_[0-9a-f]{12}$/);
        return rows([{}]);
      }
      return rows([]);
    },
  };
}

function schemaWith(needs: ResolvedSchema["replicaIdentityNeeds"], nodes: object[] = []): ResolvedSchema {
  return {
    database: "shop",
    indices: [
      { spec: { index: "books" }, nodes, tableUses: [] } as unknown as ResolvedSchema["indices"][number],
    ],
    tables: [],
    replicaIdentityNeeds: needs,
  };
}

describe("inspectDatabase", () => {
  it("a ready server: no problems, and the facts for the summary", async () => {
    const db = fakeDb({});
    const { facts, problems } = await inspectDatabase(db, { slot: "slotsync_shop" });
    expect(problems).toEqual([]);
    expect(facts).toMatchObject({
      walLevel: "logical",
      canReplicate: true,
      wal2json: "available",
      slot: undefined,
    });
    // The test slot is temporary, and dropped right away.
    expect(db.statements).toContain("SELECT pg_create_logical_replication_slot($1, 'wal2json', true)");
    expect(db.statements).toContain("SELECT pg_drop_replication_slot($1)");
  });

  it("wal_level below logical: the setting to change, and no wal2json test that could only fail", async () => {
    const db = fakeDb({ wal_level: "replica" });
    const problems = await checkPrerequisites(db);
    expect(problems).toEqual([
      {
        path: "database.wal_level",
        code: "wal_level",
        message:
          'wal_level is "replica"; logical decoding needs "logical" (takes effect after a restart of PostgreSQL)',
        fix: "ALTER SYSTEM SET wal_level = logical;",
      },
    ]);
    expect(db.statements.some((s) => s.includes("pg_create_logical_replication_slot"))).toBe(false);
  });

  it("on RDS: rds.logical_replication and rds_replication instead", async () => {
    const problems = await checkPrerequisites(
      fakeDb({ rds: "off", wal_level: "replica", replication: false }),
    );
    expect(problems.map((p) => [p.path, p.fix])).toEqual([
      ["database.rds.logical_replication", undefined],
      ["database.role", 'GRANT rds_replication TO "syncer";'],
    ]);
    expect(await checkPrerequisites(fakeDb({ rds: "on", rdsReplication: true, replication: false }))).toEqual(
      [],
    );
  });

  it("a role without REPLICATION: ALTER ROLE as the fix", async () => {
    const problems = await checkPrerequisites(fakeDb({ replication: false }));
    expect(problems).toEqual([
      {
        path: "database.role",
        code: "replication_privilege",
        message: 'role "syncer" may not use replication slots: it has no REPLICATION attribute',
        fix: 'ALTER ROLE "syncer" WITH REPLICATION;',
      },
    ]);
    expect(await checkPrerequisites(fakeDb({ replication: false, super: true }))).toEqual([]);
  });

  it("no free replication slot, unless the slot exists already", async () => {
    const full = await checkPrerequisites(fakeDb({ max: 4, used: 4 }), { slot: "s" });
    expect(full.map((p) => [p.path, p.fix])).toEqual([
      ["database.max_replication_slots", "ALTER SYSTEM SET max_replication_slots = 8;"],
    ]);
    const existing = await checkPrerequisites(
      fakeDb({ max: 4, used: 4, slot: { plugin: "wal2json", database: "shop", wal_status: "reserved" } }),
      { slot: "s" },
    );
    expect(existing).toEqual([]);
  });

  it("an existing slot with another plugin, in another database, or lost", async () => {
    const other = await checkPrerequisites(
      fakeDb({ slot: { plugin: "pgoutput", database: "shop", wal_status: "reserved" } }),
      { slot: "s" },
    );
    expect(other).toEqual([
      expect.objectContaining({ path: "database.slot", fix: "SELECT pg_drop_replication_slot('s');" }),
    ]);
    const elsewhere = await checkPrerequisites(
      fakeDb({ slot: { plugin: "wal2json", database: "crm", wal_status: "reserved" } }),
      { slot: "s" },
    );
    expect(elsewhere[0]?.message).toMatch(/belongs to database "crm"/);
    const lost = await checkPrerequisites(
      fakeDb({ slot: { plugin: "wal2json", database: "shop", wal_status: "lost" } }),
      { slot: "s" },
    );
    expect(lost[0]?.message).toMatch(/is lost.*slotsync reset, then slotsync bootstrap/);
  });

  it("wal2json: missing library is a problem; a test that times out waiting has loaded it", async () => {
    const missing = await inspectDatabase(
      fakeDb({
        wal2json: { code: "58P01", message: 'could not access file "wal2json": No such file or directory' },
      }),
    );
    expect(missing.facts.wal2json).toBe("missing");
    expect(missing.problems).toEqual([
      expect.objectContaining({ path: "database.wal2json", code: "wal2json" }),
    ]);
    const waited = await inspectDatabase(
      fakeDb({ wal2json: { code: "57014", message: "canceling statement" } }),
    );
    expect(waited.facts.wal2json).toBe("available");
    expect(waited.problems).toEqual([]);
  });

  it("missing USAGE or SELECT on a schema table, at the path of the node that reads it", async () => {
    const nodes = [
      { path: "[0].nodes", table: { schema: "public", name: "book" }, baseTables: [] },
      {
        path: "[0].nodes.children[0]",
        table: { schema: "sales", name: "author" },
        baseTables: [],
        join: { kind: "through", through: { schema: "public", name: "book_author" } },
      },
    ];
    const problems = await checkPrerequisites(
      fakeDb({
        privileges: [
          { s: "public", t: "book", usage: true, can_select: true },
          { s: "sales", t: "author", usage: false, can_select: true },
          { s: "public", t: "book_author", usage: true, can_select: false },
        ],
      }),
      { schema: schemaWith([], nodes) },
    );
    expect(problems).toEqual([
      {
        path: "[0].nodes.children[0].table",
        code: "schema_usage",
        message: 'role may not use schema "sales" (no USAGE), so it cannot read sales.author',
        fix: 'GRANT USAGE ON SCHEMA "sales" TO "syncer";',
      },
      {
        path: "[0].nodes.children[0].relationship.through_tables[0]",
        code: "select_privilege",
        message: "role may not read public.book_author (no SELECT)",
        fix: 'GRANT SELECT ON "public"."book_author" TO "syncer";',
      },
    ]);
  });

  it("replica identity needs: at the node's path, with the ALTER TABLE; fixes can be applied", async () => {
    const need = {
      table: { schema: "public", name: "review" },
      current: "default" as const,
      columns: ["book_id"],
      reasons: [
        "[0].nodes.children[6]: review.book_id joins public.review to public.book; …",
        "[1].nodes: other use",
      ],
      sql: 'ALTER TABLE "public"."review" REPLICA IDENTITY FULL;',
    };
    const db = fakeDb({});
    const problems = await checkPrerequisites(db, { schema: schemaWith([need]) });
    expect(problems).toEqual([
      {
        path: "[0].nodes.children[6]",
        code: "replica_identity",
        message:
          "public.review needs REPLICA IDENTITY FULL (it is default): review.book_id joins public.review to public.book; … (and 1 more uses)",
        fix: need.sql,
      },
    ]);
    const applied = await applyReplicaIdentityFixes(db, problems);
    expect(applied.fixed).toHaveLength(1);
    expect(db.statements).toContain(need.sql);
    const refused = await applyReplicaIdentityFixes(fakeDb({ failOn: /REPLICA IDENTITY/ }), problems);
    expect(refused.failed[0]?.message).toMatch(
      /failed: must be owner of table review; run it as the table's owner$/,
    );
  });
});

describe("server version and the old default slot name", () => {
  it("refuses PostgreSQL before 13 with the reason and what to do", async () => {
    const problems = await checkPrerequisites(fakeDb({ versionNum: 120015 }));
    const p = problems.find((x) => x.code === "server_version");
    expect(p?.path).toBe("database.server_version");
    expect(p?.message).toMatch(/needs PostgreSQL 13 or later .*upgrade/);
    expect(
      (await checkPrerequisites(fakeDb({ versionNum: 130000 }))).some((x) => x.code === "server_version"),
    ).toBe(false);
  });

  it("finds a slot under the old CLI default while the configured one is missing, and says how to keep it", async () => {
    const problems = await checkPrerequisites(fakeDb({ legacySlot: true }), { slot: "slotsync" });
    const p = problems.find((x) => x.code === "legacy_slot");
    expect(p?.message).toContain('"slotsync_shop"');
    expect(p?.message).toContain("SLOTSYNC_SLOT=slotsync_shop");
    expect(p?.message).toContain("-c slot=slotsync_shop");
    expect(p?.fix).toBe("SELECT pg_drop_replication_slot('slotsync_shop');");
    const none = await checkPrerequisites(fakeDb({ legacySlot: false }), { slot: "slotsync" });
    expect(none.some((x) => x.code === "legacy_slot")).toBe(false);
  });
});
