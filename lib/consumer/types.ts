import type { LentClient } from "../database";
import type { DocumentBuilder } from "../document";
import type { SlotsyncError } from "../errors";
import type {
  DeadLetter,
  QueueMessage,
  RangeMessage,
  RebuildMessage,
  SqsRecord,
  TruncateMessage,
} from "../queue";
import type { ReconcileProgressStore } from "../reconcile";
import type { DocumentWriter, WriteStats } from "../sink";

/** A database connection lent for one batch (what `lender` in lib/database hands out). */
export type LeasedClient = LentClient;

export interface ConsumerDeps {
  /** Lends a connection (a pool in Lambda, so warm invocations reuse it). */
  connect(): Promise<LeasedClient>;
  /** One builder per index of the schema, by the schema's index name. */
  builders: ReadonlyMap<string, DocumentBuilder>;
  /**
   * Where documents go. A search engine (`hasIndexAdmin`) also serves the custom-routing lookups
   * and the truncate/rebuild repairs; a stream sink (`isStreamSink`) gets truncate records.
   */
  sink: DocumentWriter;
  /** Sends records that can never succeed to the dead-letter queue, with the reason. */
  deadLetter(letters: DeadLetter[]): Promise<void>;
  /**
   * The physical indices (or aliases) to write a schema index's documents to. During a re-index
   * this is the serving alias and the index being built; by default the schema's index name.
   * Documents copied for a bootstrap range name their bootstrap, so they go to that copy only.
   */
  targets?(index: string, context?: { bootstrapId?: string }): Promise<readonly string[]>;
  /** Queues follow-up work (a whole-index rebuild is split into range messages). */
  enqueue?(messages: QueueMessage[]): Promise<void>;
  /**
   * Sends records again as new messages, delivered after `delaySeconds`: those the write deadline
   * or the engine's pushback held back (see `Deferral`). Without it they fail the usual way, and
   * each return uses up one of their SQS receives.
   */
  defer?(messages: QueueMessage[], delaySeconds: number): Promise<void>;
  /** Marks a bootstrap range as copied. */
  rangeDone?(bootstrapId: string, rangeId: string, documents: number): Promise<void>;
  /** Marks a bootstrap range as failed, with the reason (its record went to the dead-letter path). */
  rangeFailed?(bootstrapId: string, rangeId: string, reason: string): Promise<void>;
  /**
   * The queue's maxReceiveCount: a record that fails on this delivery is moved to the DLQ by SQS.
   * A range record failing then marks its range failed. Unset: not known (no such mark).
   */
  maxReceives?: number;
  now?(): number;
  /** Pause between in-process retries of the checkpoint store (default: a timer). */
  sleep?(ms: number): Promise<void>;
  /**
   * Where truncate and rebuild repairs keep their progress between slices (the checkpoint store).
   * With it and `enqueue`, a repair stops near the deadline and goes on in a follow-up message;
   * without, it runs to its end in one batch.
   */
  reconcileStore?: ReconcileProgressStore;
  /** Schema drift handling (lib/drift `consumerDriftPort`); without it a build failure is retried as usual. */
  drift?: ConsumerDriftPort;
  /**
   * Brings `builders` in step with the catalog before a batch builds (a table whose node takes
   * every column gained or lost a column); a failure fails the batch, whose records come again.
   */
  refreshBuilders?(): Promise<void>;
}

/**
 * What the consumer needs to stop useless retries when the database no longer matches the schema
 * (a table or column dropped or renamed, a type changed).
 */
export interface ConsumerDriftPort {
  /**
   * After building documents failed: the drift behind `error` when a catalog check finds one
   * (only errors that suggest it are checked), else undefined.
   */
  explain(error: unknown): Promise<SlotsyncError | undefined>;
  /** Delays the next delivery of records blocked by drift (a long back-off, e.g. SQS visibility). */
  delay(records: readonly SqsRecord[]): Promise<void>;
  /** Deliveries after which a blocked record goes to the DLQ with the reason `schema-drift`. */
  maxReceives: number;
}

export interface ConsumerOptions {
  /** Root keys per document query, at most (see `chunkText`). */
  keysPerQuery: number;
  /**
   * Root rows per page when copying a range, and ids per page of a repair's index scan. A page is
   * one document query and one write call, so it also caps the `_bulk` requests a range's
   * documents go out in: the default, {@link DEFAULT_RANGE_PAGE_SIZE}, copies a default range in
   * one page.
   */
  rangePageSize: number;
  /**
   * Characters of document text one chunk (a document query's keys, a range's page) may hold,
   * about: chunks of wide documents get fewer rows than `keysPerQuery` or `rangePageSize`, fitted
   * to the widest rows seen in the batch (the first chunk asks for 250 rows at most), so memory
   * stays bounded by bytes as well as rows. Default {@link DEFAULT_CHUNK_TEXT}.
   */
  chunkText?: number;
  /**
   * Chunks of documents (a query's keys, a range's page) built ahead of the one being written:
   * the next chunk's query runs while the previous chunk's bulk request is in flight. 0 builds
   * and writes in turn. Memory holds at most this many chunks plus the one being written.
   * Default {@link DEFAULT_LOOK_AHEAD} (`CONSUMER_LOOK_AHEAD`).
   */
  lookAhead?: number;
  /** Epoch ms by which the batch must be written (the Lambda's remaining time less a margin). */
  deadline?: number;
  /**
   * Pages a truncate's or rebuild's repair does in one batch at most before it goes on in a
   * follow-up message (when a checkpoint store and a queue are there); absent: as many as the
   * deadline allows.
   */
  repairPagesPerSlice?: number;
  /** Seconds a record waits before it comes again after the engine pushed back (default 30). */
  throttleDelaySeconds?: number;
}

/** Chunks built ahead of the write in flight, by default: one, so memory stays at two chunks. */
export const DEFAULT_LOOK_AHEAD = 1;

/**
 * Root rows per range page by default: the bootstrap's default range (`BOOTSTRAP_RANGE_ROWS`,
 * 5,000 rows), so a range is one query and one write call, and the sink's adaptive requests may
 * grow to its largest (`SINK_DEFAULTS.maxChunkSize`, 5,000 operations): a page caps the requests
 * its documents go out in. Run alone at 1,000,000 books (bench/bootstrap.ts), pages of 1,000 rows
 * reached 0.55 of the bulk ceiling, pages of 2,500 about 0.72, with their requests at half the
 * ceiling's size, and pages of 5,000 about 0.76 (docs/project/benchmarks.md, "Range pages").
 */
export const DEFAULT_RANGE_PAGE_SIZE = 5000;

/**
 * Document text per chunk by default: 16 Mi characters, so a chunk's documents, the one built
 * ahead and the one being written stay well inside a 1,024 MB consumer whatever the row width
 * (5,000 documents of 1 KB are 5 Mi characters: the row count rules for common rows).
 */
export const DEFAULT_CHUNK_TEXT = 16 * 1024 * 1024;

export const DEFAULT_CONSUMER_OPTIONS: ConsumerOptions = {
  keysPerQuery: 1000,
  rangePageSize: DEFAULT_RANGE_PAGE_SIZE,
  lookAhead: DEFAULT_LOOK_AHEAD,
};

/** What one batch did, for the structured log line and the metrics. */
export interface BatchStats extends Omit<WriteStats, "durationMs" | "operations"> {
  records: number;
  keys: number;
  documents: number;
  /**
   * Dead letters sent: whole records (bad format, unknown index, rejected documents, failed
   * ranges) and single poisoned keys.
   */
  deadLettered: number;
  /** Of the dead letters: keys whose document could not be built, isolated from their records. */
  poisoned: number;
  /** Records reported as failed, so SQS delivers them again. */
  failed: number;
  /** Of the failed records: those held back by schema drift with a long back-off. */
  delayed?: number;
  /** Records sent again as new messages, held back by the deadline or the engine's pushback. */
  deferred?: number;
  durationMs: number;
}

/** Counters of a batch of `records` records before any work. */
export function emptyBatchStats(records = 0): BatchStats {
  return {
    records,
    keys: 0,
    documents: 0,
    indexed: 0,
    deleted: 0,
    stale: 0,
    rejected: 0,
    retryable: 0,
    retried: 0,
    requests: 0,
    bytes: 0,
    deadLettered: 0,
    poisoned: 0,
    failed: 0,
    durationMs: 0,
  };
}

/** A truncate or rebuild message: rows went or changed without row changes. */
export interface RepairRequest {
  record: SqsRecord;
  message: TruncateMessage | RebuildMessage;
}

/** Work for one schema index in one batch. */
export interface IndexWork {
  /** Key (as JSON of its text values) → the newest version asked for and the records asking. */
  keys: Map<string, { key: string[]; version: bigint; records: Set<string> }>;
  ranges: { record: SqsRecord; message: RangeMessage }[];
  /** Truncates for a stream sink: each is written as one `truncate` operation. */
  truncates: { record: SqsRecord; version: bigint }[];
  /** Truncates and rebuilds for a search engine: reconciled after the batch's writes. */
  repairs: RepairRequest[];
}
