import type pg from "pg";
import type { DocumentBuilder } from "../document";
import type { SearchSink } from "../sink";

/**
 * `missing-extra`: delete documents whose root row is gone, write documents that are missing.
 * `rebuild`: the same, and every other document is built again (a table below the root lost or
 * gained rows without row changes: truncated, a partition attached or detached).
 */
export type ReconcileMode = "missing-extra" | "rebuild";

/** One reconcile of one physical index (or alias) against the root table of its schema index. */
export interface ReconcileJob {
  /** Names the job's progress in the store; the same job resumes from it. */
  id: string;
  /** The schema index (the builder's index). */
  index: string;
  /** The index or alias compared and written. */
  target: string;
  mode: ReconcileMode;
  /**
   * External version of every write and delete. Chosen so that any live write not yet visible to
   * the repair's snapshots carries a higher one and wins (see docs/operations/reconcile-and-verify.md).
   */
  version: bigint;
}

export interface ReconcileCounts {
  /** Documents read from the index (phase 1). */
  documents: number;
  /** Root rows read from the database (phase 2). */
  rows: number;
  /** Documents whose root row is gone (deleted unless dry run). */
  extra: number;
  /** Root rows without a document (written unless dry run). */
  missing: number;
  /** Documents built again in `rebuild` mode. */
  rebuilt: number;
  /** Writes the engine refused for good (mapping errors): see the examples. */
  rejected: number;
  /** Pages done, over all slices. */
  pages: number;
  /** Slices (invocations) that worked on the job. */
  slices: number;
}

/**
 * Where a job stands between slices. Phase `index` walks the index's ids (scroll cursor), phase
 * `database` the root keys in key order (`after`), then `done`.
 */
export interface ReconcileProgress {
  v: 1;
  phase: "index" | "database" | "done";
  cursor?: string;
  after?: string[];
  /**
   * The ids of the index page read last, kept until its deletes and writes were accepted. The
   * scroll behind `cursor` has moved past them on the engine (a scroll cursor names a place kept
   * by the engine, not a page), so a page whose work failed or was cut short is done again from
   * here, never read again from the scroll. `last`: the scroll ended with this page.
   */
  pending?: { documents: { id: string; routing?: string }[]; last: boolean };
  counts: ReconcileCounts;
  /** A few ids of each kind, for reports. */
  examples: { extra: string[]; missing: string[]; rejected: string[] };
  updatedAt: string;
}

/** Keeps job progress (the checkpoint store in Lambda). */
export interface ReconcileProgressStore {
  read(jobId: string): Promise<ReconcileProgress | null>;
  write(jobId: string, progress: ReconcileProgress): Promise<void>;
  /** Forgets a finished job. */
  clear(jobId: string): Promise<void>;
}

/** A database connection lent for one page. */
export interface ReconcileConnection {
  client: pg.ClientBase;
  release(error?: Error): void;
}

export interface ReconcileDeps {
  connect(): Promise<ReconcileConnection>;
  builder: DocumentBuilder;
  /** A search engine: reconcile lists the index's ids (`requireIndexAdmin` at the wiring). */
  sink: SearchSink;
  /** Without a store, progress lives in memory only: the job runs to its end in one call. */
  store?: ReconcileProgressStore;
  now?: () => number;
}

export interface ReconcileOptions {
  /** Ids or root keys per page. */
  pageSize: number;
  /** Epoch ms: no page is started that could not end before it. Absent: run to the end. */
  deadline?: number;
  /** Count and report only; write nothing. */
  dryRun?: boolean;
  /** Pages per slice at most (the rest goes on in the next slice); absent: as the deadline allows. */
  maxPages?: number;
}

export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = { pageSize: 1000 };

/** What one slice did. */
export interface ReconcileSliceResult {
  done: boolean;
  progress: ReconcileProgress;
}
