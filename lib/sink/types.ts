/**
 * What sinks are given and give back: document operations, their outcomes and the counters of a
 * write, and the documents the search engines store. The interfaces sinks implement are in
 * `contract.ts`.
 */

/** Which search engine a sink talks to. */
export type Engine = "elasticsearch" | "opensearch";

/** Sinks that emit a stream of records instead of maintaining indices (see `StreamSink`). */
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

/**
 * A document source that is already JSON text: one object, on one line. Writers send it as is,
 * which spares parsing the text and serialising it again. Made with {@link SourceText.of}, which
 * checks the line: a line break would split a `_bulk` or NDJSON line in two.
 */
export class SourceText {
  private constructor(readonly json: string) {}

  /**
   * The text as a source, or undefined when it is not one JSON object on one line. `_bulk` splits
   * on \n alone, but an NDJSON reader (Node's readline among them) also ends a line at a lone \r.
   */
  static of(json: string): SourceText | undefined {
    const object = json.charCodeAt(0) === 0x7b || /^\s*\{/.test(json);
    return object && json.indexOf("\n") === -1 && json.indexOf("\r") === -1
      ? new SourceText(json)
      : undefined;
  }
}

/** Create or replace a whole document, unless the index already holds a newer version. */
export interface IndexOperation extends OperationBase {
  kind: "index";
  source: Readonly<Record<string, unknown>> | SourceText;
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
 * Remove every document of an index whose version is at most `version`: a root table's
 * `TRUNCATE`, for stream sinks only (a search engine's index is repaired against the table
 * instead, since it can list its documents). Emitted as one `truncate` record.
 */
export interface TruncateOperation {
  kind: "truncate";
  /** The index whose documents the receiver removes. */
  index: string;
  /** Commit LSN of the truncate: documents at a newer version stay. */
  version: bigint;
  /** The caller's handle, returned untouched in the outcome. */
  ref?: unknown;
}

/** What a stream sink writes: document operations and truncates. */
export type StreamOperation = SinkOperation | TruncateOperation;

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
export interface SinkOutcome<Op extends StreamOperation = SinkOperation> {
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

/**
 * Everything `write` found out: one outcome per operation, in order, each holding the very
 * operation object it was given, and the counters.
 */
export interface WriteResult<Op extends StreamOperation = SinkOperation> {
  outcomes: SinkOutcome<Op>[];
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
