import type pg from "pg";
import type { CheckpointStore, Lease } from "../checkpoint";
import type { PrerequisiteProblem } from "../prereq";
import type { KeyPublisher } from "../queue";
import type { ResolvedSchema } from "../schema";
import type { DocumentWriter } from "../sink";
import type { PollerSchedule } from "./schedule";

/** Checks the database before a bootstrap: lib/prereq's `checkPrerequisites`. */
export type PrerequisiteCheck = (
  client: pg.ClientBase,
  options: { schema: ResolvedSchema; slot: string },
) => Promise<readonly PrerequisiteProblem[]>;

/** What completing a copy needs: the consumers have these too. */
export interface CompletionDeps {
  slot: string;
  /**
   * Where documents go. A search engine (`hasIndexAdmin`) gets a new concrete index per copy and
   * an alias switch; a stream sink gets the copy under the index's own name.
   */
  sink: DocumentWriter;
  store: CheckpointStore & Lease;
  /** The poller's schedule, enabled at the switch; absent locally (no schedule to enable). */
  schedule?: PollerSchedule;
  /** Names this process in the bootstrap lock (e.g. the Lambda request id). */
  holder?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What starting or resuming a bootstrap needs. */
export interface BootstrapDeps extends CompletionDeps {
  /** A connection for the slot, prerequisites and planning (the caller opens and closes it). */
  db: pg.ClientBase;
  schema: ResolvedSchema;
  /** Where range messages go: SQS in Lambda, a MemoryQueue locally. */
  publisher: KeyPublisher;
  /** The database check (default: lib/prereq's `checkPrerequisites`); replaceable in tests. */
  prerequisites?: PrerequisiteCheck;
}

/** Timing shared by bootstrap, completion and reset. */
export interface TimingOptions {
  /**
   * How long consumers may cache their write targets (the resolver's TTL). A bootstrap waits this
   * long after registering a new index before sending the first range, and reset waits it before
   * deleting indices, so no consumer holds a target list that is out of date when it matters.
   */
  targetsCacheMs?: number;
  /** How long an index the alias left is kept before deletion (REINDEX_GRACE_MINUTES). */
  graceMs?: number;
  /** Delete the index the alias left at the switch instead of after the grace period. */
  deleteOldNow?: boolean;
  /** How long completion waits for the bootstrap lock (a consumer finishing the last range). */
  lockWaitMs?: number;
}

export interface BootstrapOptions extends TimingOptions {
  /** Build a new copy even for indices that are served and in sync (after a schema change). */
  reindex?: boolean;
  /** Only continue unfinished copies; never start one. */
  resumeOnly?: boolean;
  /** Schema index names to work on (default: all of the schema). */
  indices?: readonly string[];
  /** Root rows per range message (default 5000: one page of a consumer, one write call). */
  rangeRows?: number;
  /** Row estimate above which split keys are sampled (default 20,000,000). */
  sampleAbove?: number;
  /** Run the `ALTER TABLE … REPLICA IDENTITY FULL` statements the schema needs before checking. */
  fixReplicaIdentity?: boolean;
  /**
   * A range sent this long ago and still not done is sent again on resume: its message may have
   * been lost (dead-lettered, purged, or its consumer died past the redrive limit). Default 30 min.
   */
  resendAfterMs?: number;
  /** Epoch ms after which no more ranges are sent (a Lambda's remaining time less a margin). */
  deadline?: number;
  /** Structured progress, for logs and the CLI. */
  onEvent?: (event: BootstrapEvent) => void;
}

/** One step of a bootstrap, as it happens. */
export type BootstrapEvent =
  | { step: "replica-identity-fixed"; statements: string[] }
  | { step: "slot-created"; slot: string; lsn: string }
  | { step: "index-created"; index: string; concrete: string; replaces: string[] }
  | { step: "planned"; index: string; ranges: number; estimatedRows: number; method: "exact" | "sample" }
  | { step: "waiting-for-consumers"; index: string; ms: number }
  | { step: "sent"; index: string; sent: number; total: number }
  | { step: "switched"; index: string; concrete: string; previous: string[] }
  | { step: "deleted"; index: string; concrete: string }
  | { step: "abandoned"; index: string; concrete: string; reason: string };

/** Where one schema index stands after a call. */
export type IndexState =
  /** Ranges are queued; consumers are copying. */
  | "copying"
  /** Not every range could be sent before the deadline: invoke again to send the rest. */
  | "sending"
  /** The copy is switched in and the alias serves it. */
  | "serving"
  /** Never bootstrapped (only with `resumeOnly`). */
  | "absent";

export interface IndexBootstrapSummary {
  index: string;
  state: IndexState;
  /** The copy this call worked on (absent when an index was already serving and left alone). */
  bootstrapId?: string;
  concrete?: string;
  /** External version of the copy: the slot's confirmed_flush_lsn read before the copy began. */
  lsn?: string;
  total: number;
  done: number;
  /** Range messages sent by this call: first sends plus re-sends. */
  sent: number;
  resent: number;
  /** Ranges not yet sent (after a deadline). */
  unsent: number;
  documents: number;
  /** True when this call began the copy (false when it resumed one). */
  started: boolean;
  message: string;
}

export interface BootstrapSummary {
  slot: string;
  /** True when this call created the replication slot. */
  slotCreated: boolean;
  indices: IndexBootstrapSummary[];
}
