import type { ResolvedSchema } from "../schema";

/** What a prerequisite problem is about, so callers can act on some kinds (run the fixes, say). */
export type PrerequisiteCode =
  | "wal_level"
  | "rds_logical_replication"
  | "replication_privilege"
  | "schema_usage"
  | "select_privilege"
  | "wal2json"
  | "replication_slots"
  | "slot"
  | "legacy_slot"
  | "server_version"
  | "replica_identity";

/** One thing about the database that keeps slotsync from working, reported like a schema problem. */
export interface PrerequisiteProblem {
  /**
   * Where: a schema path when the problem belongs to a node (`[0].nodes.children[2]`), otherwise
   * `database.<setting>` (`database.wal_level`, `database.role`, `database.wal2json`).
   */
  path: string;
  /** What is wrong and what it breaks, in one line. */
  message: string;
  /** SQL that fixes it, when a statement can (some also need a restart; `message` says so). */
  fix?: string;
  code: PrerequisiteCode;
}

export interface PrerequisiteOptions {
  /** The resolved schema: enables the privilege and replica identity checks. */
  schema?: ResolvedSchema;
  /** The slot slotsync will use; when it exists already, it needs no free slot, only the right plugin. */
  slot?: string;
  /** Try to create a temporary wal2json slot (default true). */
  checkWal2json?: boolean;
  /** How long the wal2json test may wait for running transactions (default 5000 ms). */
  wal2jsonTimeoutMs?: number;
}

/** What was found, for a "ready" summary. */
export interface DatabaseFacts {
  database: string;
  role: string;
  serverVersion: string;
  walLevel: string;
  /** `rds.logical_replication` on Amazon RDS / Aurora; undefined elsewhere. */
  rdsLogicalReplication: string | undefined;
  superuser: boolean;
  /** The role may use replication slots: REPLICATION, `rds_replication` membership or superuser. */
  canReplicate: boolean;
  maxReplicationSlots: number;
  usedReplicationSlots: number;
  /** `unchecked` when an earlier problem (privilege, wal_level, no free slot) made the test impossible. */
  wal2json: "available" | "missing" | "unchecked" | "failed";
  /** The named slot, when it exists. */
  slot: { plugin: string; database: string; walStatus: string | null } | undefined;
}

export interface DatabaseInspection {
  facts: DatabaseFacts;
  problems: PrerequisiteProblem[];
}
