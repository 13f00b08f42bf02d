import { SinkError } from "./errors";
import type {
  DocumentLocation,
  DocumentRef,
  Engine,
  EngineInfo,
  IndexBody,
  SinkKind,
  SinkOperation,
  StoredDocument,
  StreamEngine,
  StreamOperation,
  WriteOptions,
  WriteResult,
} from "./types";

/**
 * What every sink is: it writes batches of operations, and closes. The consumer's write path,
 * bootstrap's copy and `slotsync run` need nothing more. Make one with `createDocumentSink`.
 *
 * Anything else a sink can do is an optional capability, told apart by `engine`:
 * - `SearchSink` (Elasticsearch, OpenSearch) adds index administration and document reads
 *   (`IndexAdmin`); `hasIndexAdmin` narrows to it, `requireIndexAdmin` demands it.
 * - `StreamSink` (webhook, NDJSON) also accepts `truncate` operations; `isStreamSink` narrows to it.
 *
 * @typeParam Op the operations the sink accepts; every sink takes `SinkOperation`s.
 */
export interface DocumentWriter<Op extends StreamOperation = SinkOperation> {
  readonly engine: SinkKind;

  /**
   * Writes a batch (a search engine: `_bulk` with external versioning; a stream: one record per
   * operation), retrying what is retryable with backoff. Never throws for per-document problems:
   * each operation gets an outcome, in order, holding the operation it was given. Throws
   * `SinkError` only when nothing in the batch can succeed (bad credentials, missing privileges,
   * every target index missing, wrong URL).
   */
  write<O extends Op>(ops: readonly O[], options?: WriteOptions): Promise<WriteResult<O>>;
  /** Closes connections and files. The sink must not be used afterwards. */
  close(): Promise<void>;
}

/**
 * Index administration and document reads of one Elasticsearch or OpenSearch cluster: what
 * bootstrap's alias switch, reset, status, reconcile, verify and the custom-routing lookups need.
 */
export interface IndexAdmin {
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
  /** Copies an index with `_clone` (briefly write-blocking the source). */
  cloneIndex(source: string, target: string): Promise<void>;
  /** Field names at the top of an index's mappings. */
  mappedFields(index: string): Promise<string[]>;
  /** Number of documents in an index or alias, optionally matching a query. */
  count(index: string, query?: Record<string, unknown>): Promise<number>;
  /** Makes recent writes visible to search (consistency checks, custom-routing lookups). */
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
  /** Up to `size` documents picked at random, with sources. */
  sampleDocuments(index: string, size: number): Promise<StoredDocument[]>;
  /**
   * The ids of an index, one page per call, resumable from another process with the returned
   * cursor (a scroll: it sees the index as of its last refresh). The cursor names the place the
   * engine keeps, not a page: passing it again gives the next page, never the same one again.
   */
  scanIds(
    index: string,
    cursor: string | undefined,
    size: number,
  ): Promise<{ documents: { id: string; version: bigint; routing?: string }[]; cursor: string | undefined }>;
  /** Engine kind, version and cluster name. */
  info(): Promise<EngineInfo>;
}

/** An Elasticsearch or OpenSearch sink: a writer with index administration. */
export interface SearchSink extends DocumentWriter, IndexAdmin {
  readonly engine: Engine;
}

/**
 * A webhook or NDJSON sink: a writer that also takes `truncate` operations. It keeps no
 * documents: they live at the receiver, which applies each record by version.
 */
export interface StreamSink extends DocumentWriter<StreamOperation> {
  readonly engine: StreamEngine;
  /** Where records go, for messages (never a secret: no URL query, no token). */
  readonly target: string;
}

/** True for the Elasticsearch and OpenSearch sinks, which administer indices. */
export function hasIndexAdmin(sink: DocumentWriter): sink is SearchSink {
  return sink.engine === "elasticsearch" || sink.engine === "opensearch";
}

/** True for the webhook and NDJSON sinks: no indices, no aliases, documents live at the receiver. */
export function isStreamSink(sink: DocumentWriter): sink is StreamSink {
  return sink.engine === "webhook" || sink.engine === "ndjson";
}

/** The sink's index administration, or undefined for a stream sink (which keeps no indices). */
export function indexAdminOf(sink: DocumentWriter): SearchSink | undefined {
  return hasIndexAdmin(sink) ? sink : undefined;
}

/**
 * The sink as a `SearchSink`, for commands that read or administer indices.
 * @param command what needs the indices, for the message, e.g. `slotsync verify`
 * @throws SinkError (`not_supported`, not retryable) naming the command and the fix for a stream sink.
 */
export function requireIndexAdmin(sink: DocumentWriter, command: string): SearchSink {
  if (hasIndexAdmin(sink)) return sink;
  throw new SinkError(`${command} needs a search engine, and the ${sink.engine} sink keeps no indices`, {
    where: "SINK",
    errorType: "not_supported",
    retryable: false,
    fix: `run ${command} with SINK=elasticsearch or SINK=opensearch; the documents of a ${sink.engine} stream live at its receiver, so check them there`,
  });
}
