import { SinkError } from "../errors";
import type {
  DocumentLocation,
  DocumentRef,
  DocumentSink,
  EngineInfo,
  IndexBody,
  SinkOperation,
  SinkOutcome,
  StoredDocument,
  StreamEngine,
  WriteOptions,
  WriteResult,
  WriteStats,
} from "../types";
import { ALL_DOCUMENTS_ID } from "./record-format";

/**
 * A sink that emits operations as a stream of records (webhook, NDJSON) instead of maintaining
 * indices. It implements `DocumentSink` so the consumer, `slotsync run` and bootstrap drive it
 * unchanged, with this meaning for index management:
 *
 * - `indexExists` is false and `getAliasTargets` empty: a stream holds no index.
 * - `createIndex`, `deleteIndex`, `swapAlias` and `refresh` do nothing: there is nothing to create,
 *   delete, switch or refresh; documents are emitted with the schema's index name. Bootstrap
 *   checks `isStreamSink` and does not call them (it copies under the index name, no alias).
 * - `scan` yields one marker document (`ALL_DOCUMENTS_ID`) standing for every document of the
 *   index, so the consumer's truncate handling (delete every scanned document) emits one
 *   `truncate` record instead of nothing.
 * - `count` and `getDocuments` throw a `SinkError`: the documents live at the receiver.
 */
export abstract class StreamSink implements DocumentSink {
  abstract readonly engine: StreamEngine;
  /** Where records go, for messages (never a secret: no URL query, no token). */
  abstract readonly target: string;

  abstract write(ops: readonly SinkOperation[], options?: WriteOptions): Promise<WriteResult>;
  abstract close(): Promise<void>;

  async createIndex(_name: string, _body?: IndexBody): Promise<{ created: boolean }> {
    return { created: false };
  }

  async deleteIndex(_name: string): Promise<{ deleted: boolean }> {
    return { deleted: false };
  }

  async indexExists(_name: string): Promise<boolean> {
    return false;
  }

  async getAliasTargets(_alias: string): Promise<string[]> {
    return [];
  }

  async swapAlias(
    _alias: string,
    _index: string,
    _options?: { replaceIndex?: boolean },
  ): Promise<{ previous: string[] }> {
    return { previous: [] };
  }

  async count(index: string, _query?: Record<string, unknown>): Promise<number> {
    throw this.noDocuments(`count the documents of "${index}"`);
  }

  async refresh(_index: string): Promise<void> {}

  async getDocuments(
    index: string,
    _ids: readonly (string | DocumentRef)[],
  ): Promise<(StoredDocument | undefined)[]> {
    throw this.noDocuments(`read documents of "${index}"`);
  }

  /** A stream has no shards to search: the receiver applies each operation's routing itself. */
  async locate(_index: string, _ids: readonly string[]): Promise<DocumentLocation[]> {
    return [];
  }

  async *scan(index: string, _options?: { batchSize?: number }): AsyncIterable<StoredDocument> {
    yield { index, id: ALL_DOCUMENTS_ID, version: 0n, source: {} };
  }

  async info(): Promise<EngineInfo> {
    return { engine: this.engine, version: "1" };
  }

  private noDocuments(what: string): SinkError {
    return new SinkError(`the ${this.engine} sink keeps no documents: cannot ${what}`, {
      errorType: "not_supported",
      fix: `ask the receiver of the ${this.engine} stream (${this.target}); slotsync only emits operations to it`,
    });
  }
}

/** True for the webhook and NDJSON sinks: no indices, no aliases, documents live at the receiver. */
export function isStreamSink(sink: { readonly engine: string }): sink is StreamSink {
  return sink.engine === "webhook" || sink.engine === "ndjson";
}

/** Counters of a finished stream write, from its outcomes. */
export function streamWriteStats(
  outcomes: readonly SinkOutcome[],
  counters: { requests: number; bytes: number; retried: number; durationMs: number },
): WriteStats {
  const stats: WriteStats = {
    operations: outcomes.length,
    indexed: 0,
    deleted: 0,
    stale: 0,
    rejected: 0,
    retryable: 0,
    ...counters,
  };
  for (const outcome of outcomes) {
    if (outcome.status === "ok") {
      if (outcome.op.kind === "index") stats.indexed++;
      else stats.deleted++;
    } else stats[outcome.status]++;
  }
  return stats;
}
