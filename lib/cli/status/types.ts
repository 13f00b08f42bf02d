import type { DriftFinding } from "../../drift";

/** What `slotsync status` reports; `--json` prints exactly this object. */
export interface StatusReport {
  /** What is configured, without secrets. */
  configuration: {
    /** `host:port/database`, or null when PG_URL is not set. */
    postgres: string | null;
    schema: string | null;
    search: string | null;
    /**
     * False for a stream sink (webhook, NDJSON): it has no indices, so there is nothing to count
     * or alias; null when no sink is configured.
     */
    sinkHasIndices: boolean | null;
    /** The SQS queue URL, or `in-process`. */
    queue: string;
    state: string;
  };
  slot: {
    name: string;
    exists: boolean;
    active: boolean | null;
    plugin: string | null;
    /** reserved | extended | unreserved | lost */
    walStatus: string | null;
    confirmedLsn: string | null;
    /** WAL between the server's position and what the slot has confirmed. */
    lagBytes: number | null;
    /** WAL the server keeps for the slot (from its restart point). */
    retainedBytes: number | null;
    /** Room left before the slot is at risk (`max_slot_wal_keep_size`); null when unlimited. */
    safeWalSizeBytes: number | null;
  } | null;
  poller: {
    lastPollAt: string | null;
    lastSuccessAt: string | null;
    lagBytes: number | null;
    checkpointLsn: string | null;
    checkpointAt: string | null;
    lease: { holder: string; expiresInMs: number } | null;
    /** When this report was made, to read the times against. */
    now: string;
  } | null;
  queue:
    | { kind: "in-process" }
    | { kind: "sqs"; visible: number | null; inFlight: number | null; deadLetters: number | null };
  indices: {
    index: string;
    exists: boolean | null;
    documents: number | null;
    /** Concrete indices behind the alias (empty when `index` is a concrete index). */
    aliasOf: string[];
    rootTable: string | null;
    rootRows: number | null;
  }[];
  bootstraps: {
    bootstrapId: string;
    index: string;
    done: number;
    total: number;
    running: number;
    failed: number;
    documents: number;
    startedAt: string;
    completedAt: string | null;
    /** The first failed range and its reason, when a range failed. */
    firstFailure?: { rangeId: string; error: string } | undefined;
  }[];
  /**
   * Each schema index as bootstrap sees it: served by which copy, a copy being built with its
   * progress, old copies waiting for deletion, and whether the schema changed since the copy.
   */
  copies: {
    index: string;
    /** `serving`: the name serves documents; `building`: only a copy in progress; `none`: neither. */
    state: "serving" | "building" | "none";
    /** What the name is: an alias (slotsync's), a concrete index (PGSync's), or nothing. */
    servingKind: "alias" | "index" | "none";
    serving: string[];
    building: {
      concrete: string;
      bootstrapId: string;
      phase: string;
      done: number | null;
      total: number | null;
      documents: number | null;
    } | null;
    retired: { concrete: string; deleteAfter: string }[];
    /** The schema's mappings or settings changed since the served copy: run bootstrap --reindex. */
    reindexNeeded: boolean;
  }[];
  /**
   * Schema drift recorded for the deployed schema (lib/drift): what no longer matches the database.
   * Absent when the checkpoint store was not read; null when nothing is recorded.
   */
  drift?: { findings: DriftFinding[]; detectedAt: string | null; source: string | null } | null;
  /** Settings that are missing, and what they would show. */
  notConfigured: string[];
  /** Parts that are configured but could not be read, one line each. */
  errors: string[];
}
