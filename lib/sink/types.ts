/**
 * The document sink: the one narrow interface through which the consumer and bootstrap write to
 * Elasticsearch or OpenSearch. Everything engine-specific stays behind it.
 */

/** Which search engine a sink talks to. */
export type Engine = "elasticsearch" | "opensearch";

/** Sinks that emit a stream of operations instead of maintaining indices (see `StreamSink`). */
export type StreamEngine = "webhook" | "ndjson";

/** Every kind of sink: a search engine or a stream. */
export type SinkKind = Engine | StreamEngine;

interface OperationBase {
  /** Index or alias to write to. */
  index: string;
  /** Document `_id` (PGSync-compatible: root primary-key values joined with `|`). At most 512 bytes. */
  id: string;
  /**
   * External version, written with `version_type: external_gte`: the commit LSN (as a 64-bit
   * integer) of the newest transaction the document reflects. Must be in 0 .. 2^63-1.
   * A bigint because LSNs exceed 2^53 and a `number` would silently round.
   */
  version: bigint;
  /** Custom routing value, when the index routes by something other than `_id`. */
  routing?: string;
  /** The caller's handle (e.g. the SQS message id), returned untouched in the outcome. */
  ref?: unknown;
}

/** Create or replace a whole document, unless the index already holds a newer version. */
export interface IndexOperation extends OperationBase {
  kind: "index";
  source: Readonly<Record<string, unknown>>;
  /** Ingest pipeline to run the document through. */
  pipeline?: string;
  /**
   * Fail the operation (index_not_found) unless `index` is an alias. Stops a write to a missing
   * alias from auto-creating a concrete index with dynamic mappings under the alias's name.
   */
  requireAlias?: boolean;
}

/**
 * Delete a document, unless the index already holds a newer version. A versioned delete leaves a
 * tombstone for `index.gc_deletes` (see `TOMBSTONE_INDEX_SETTINGS`) that rejects older writes.
 */
export interface DeleteOperation extends OperationBase {
  kind: "delete";
}

/** Largest external version the engines accept (a Java `long`); the bound of `version`. */
export const MAX_VERSION = 2n ** 63n - 1n;

/** One write in a batch. */
export type SinkOperation = IndexOperation | DeleteOperation;

/**
 * What happened to one operation.
 * - `ok`: written (a delete of a missing document is `ok` too: it still leaves a tombstone).
 * - `stale`: the index already holds the same document at a newer version; counts as success.
 * - `retryable`: still failing after the retries and time `write` was allowed; try again later.
 * - `rejected`: will never succeed as is (mapping error, document too large, missing index):
 *   route it to a dead-letter queue with `reason`.
 */
export type OutcomeStatus = "ok" | "stale" | "retryable" | "rejected";

/** The result for one operation, in the same position as the operation in the batch. */
export interface SinkOutcome<Op extends SinkOperation = SinkOperation> {
  op: Op;
  status: OutcomeStatus;
  /** HTTP status of the item (or of the whole request when that is what failed). */
  httpStatus?: number;
  /** Engine error type, e.g. `mapper_parsing_exception`, or `timeout` / `network` / `deadline`. */
  errorType?: string;
  /** Human-readable reason for anything not `ok`, with the engine's own words. */
  reason?: string;
  /** How many times the operation was sent (0 when it was refused before sending). */
  attempts: number;
}

/** Counters for one `write` call, for the consumer's structured log line and metrics. */
export interface WriteStats {
  operations: number;
  /** Index operations that were written. */
  indexed: number;
  /** Delete operations that were written (including deletes of documents that were not there). */
  deleted: number;
  stale: number;
  rejected: number;
  retryable: number;
  /** Operations sent again after a retryable failure (one operation retried twice counts 2). */
  retried: number;
  /** HTTP requests sent, including retries and splits. */
  requests: number;
  /** Uncompressed request body bytes sent, including retries. */
  bytes: number;
  durationMs: number;
  /** Time spent waiting for `_bulk` answers, summed over requests (search engines). */
  requestMs?: number;
  /** Requests the engine pushed back on: a 429 for the request or for one of its items. */
  throttledRequests?: number;
  /** Operations per request in use at the end (adaptive sizing: the smallest of the indices written). */
  chunkSize?: number;
}

/** Everything `write` found out: one outcome per operation, in order, and the counters. */
export interface WriteResult {
  outcomes: SinkOutcome[];
  stats: WriteStats;
}

/** Per-call options for `write`. */
export interface WriteOptions {
  /**
   * Absolute time (epoch ms) after which `write` sends nothing more and ends what is still
   * pending as `retryable`; e.g. a Lambda's `Date.now() + getRemainingTimeInMillis() - margin`.
   * The sink's `writeDeadlineMs` applies as well; the earlier wins.
   */
  deadline?: number;
}

/** Settings, mappings and aliases of a new index, as the create-index API takes them. */
export interface IndexBody {
  settings?: Record<string, unknown>;
  mappings?: Record<string, unknown>;
  aliases?: Record<string, unknown>;
}

/** A document as stored in the index, with its exact version. */
export interface StoredDocument {
  index: string;
  id: string;
  version: bigint;
  source: Record<string, unknown>;
  routing?: string;
}

/** A document to fetch: its id, and its routing when the index uses custom routing. */
export interface DocumentRef {
  id: string;
  routing?: string;
}

/** Where one copy of a document lives: its concrete index and its routing, when it has one. */
export interface DocumentLocation {
  index: string;
  id: string;
  /** Its external version (exact). */
  version: bigint;
  routing?: string;
}

/** What the engine says about itself. */
export interface EngineInfo {
  engine: SinkKind;
  version: string;
  clusterName?: string;
}

/**
 * The part of a sink the consumer's write path needs: write a batch, and close. Every sink is
 * one, search engine or stream.
 */
export interface DocumentWriter {
  readonly engine: SinkKind;

  /**
   * Writes a batch (a search engine: `_bulk` with external versioning; a stream: one record per
   * operation), retrying what is retryable with backoff. Never throws for per-document problems:
   * each operation gets an outcome, in order. Throws `SinkError` only when nothing in the batch
   * can succeed (bad credentials, missing privileges, every target index missing, wrong URL).
   */
  write(ops: readonly SinkOperation[], options?: WriteOptions): Promise<WriteResult>;
  /** Closes connections and files. The sink must not be used afterwards. */
  close(): Promise<void>;
}

/**
 * Writes documents to, and manages indices of, one Elasticsearch or OpenSearch cluster.
 * Create one with `createSink(config)`; call `close()` when done.
 *
 * Stream sinks (`StreamSink`: webhook, NDJSON) implement it too, with the index management
 * described there: a stream has no indices, so they never exist, creating or deleting one does
 * nothing, and bootstrap skips index creation and the alias switch for them (`isStreamSink`).
 */
export interface DocumentSink extends DocumentWriter {
  /** Creates an index; `created: false` when it already existed (its body is not compared). */
  createIndex(name: string, body?: IndexBody): Promise<{ created: boolean }>;
  /** Deletes one concrete index by exact name; `deleted: false` when there was none. */
  deleteIndex(name: string): Promise<{ deleted: boolean }>;
  /** True when an index or alias of that name exists. */
  indexExists(name: string): Promise<boolean>;
  /** The concrete indices an alias points to (empty when the alias does not exist). */
  getAliasTargets(alias: string): Promise<string[]>;
  /**
   * Points `alias` at `index` and away from every other index, in one atomic `_aliases` call:
   * searches on the alias see either the old or the new index, never neither.
   * `replaceIndex: true` also deletes a concrete index that has the alias's name (taking over an
   * index PGSync created), in the same atomic call.
   */
  swapAlias(
    alias: string,
    index: string,
    options?: { replaceIndex?: boolean },
  ): Promise<{ previous: string[] }>;
  /** Number of documents in an index or alias, optionally matching a query. */
  count(index: string, query?: Record<string, unknown>): Promise<number>;
  /** Makes recent writes visible to search (tests and consistency checks; not needed for sync). */
  refresh(index: string): Promise<void>;
  /** Fetches documents by id, in order; `undefined` where there is none. */
  getDocuments(
    index: string,
    ids: readonly (string | DocumentRef)[],
  ): Promise<(StoredDocument | undefined)[]>;
  /**
   * Every copy of the documents with these ids, on any shard, with its routing (for indices with
   * custom routing, where a document's shard is not known from its id). Search-based: it sees
   * writes up to the last refresh.
   */
  locate(index: string, ids: readonly string[]): Promise<DocumentLocation[]>;
  /** Every document of an index or alias, in no particular order, with exact versions. */
  scan(index: string, options?: { batchSize?: number }): AsyncIterable<StoredDocument>;
  /** Up to `size` documents picked at random, with sources. Search engines only. */
  sampleDocuments?(index: string, size: number): Promise<StoredDocument[]>;
  /**
   * The ids of an index, one page per call, resumable from another process with the returned
   * cursor (see lib/sink `scanIds`). Search engines only: a stream sink keeps no documents.
   */
  scanIds?(
    index: string,
    cursor: string | undefined,
    size: number,
  ): Promise<{ documents: { id: string; version: bigint; routing?: string }[]; cursor: string | undefined }>;

  /** Engine kind, version and cluster name. */
  info(): Promise<EngineInfo>;
}
