import { type SinkRuntime, systemRuntime } from "../backoff";
import type { SearchSink } from "../contract";
import type {
  DocumentLocation,
  DocumentRef,
  Engine,
  EngineInfo,
  IndexBody,
  SinkOperation,
  StoredDocument,
  WriteOptions,
  WriteResult,
} from "../types";
import { AdaptiveSizer } from "./adaptive";
import * as admin from "./admin";
import { type BulkContext, writeBulk } from "./bulk";
import { type ResolvedTuning, resolveTuning, type SinkConfig, validateSinkConfig } from "./config";
import { createElasticsearchTransport } from "./elasticsearch";
import { createOpenSearchTransport } from "./opensearch";
import { getDocuments, type IdPage, locate, sampleDocuments, scan, scanIds } from "./reads";
import type { EngineTransport } from "./transport";

/**
 * Index settings every index slotsync writes to should have (merge them into the index body at
 * bootstrap).
 *
 * `index.gc_deletes` is how long a versioned delete's tombstone keeps rejecting older writes
 * (60 s by default). A document built before a delete but written after the tombstone is gone
 * would come back to life, so the window must outlast the longest time between building a
 * document and writing it: a consumer Lambda (at most 15 min) or a bootstrap range. One hour
 * covers both with margin; the cost is heap for the tombstones of one hour of deletes (tens of
 * bytes each), negligible unless deletes run at thousands per second.
 */
export const TOMBSTONE_INDEX_SETTINGS = { "index.gc_deletes": "1h" } as const;

/** Optional collaborators of `createSink`, for tests. */
export interface SinkDependencies {
  /** Clock, sleep and randomness used for backoff; the real ones by default. */
  runtime?: SinkRuntime;
}

/**
 * Creates the document sink for `config.engine`. Throws `ConfigError` for an invalid config.
 * Does not contact the cluster; the first request does.
 */
export function createSink(config: SinkConfig, deps: SinkDependencies = {}): SearchEngineSink {
  validateSinkConfig(config);
  const tuning = resolveTuning(config);
  const transport =
    config.engine === "elasticsearch"
      ? createElasticsearchTransport(config, tuning)
      : createOpenSearchTransport(config, tuning);
  return new SearchEngineSink(transport, tuning, deps.runtime ?? systemRuntime);
}

/**
 * `SearchSink` on top of an engine transport. Engine-neutral: both engines speak the same
 * `_bulk`, `_mget`, `_aliases` and scroll APIs, so only the transport differs.
 */
export class SearchEngineSink implements SearchSink {
  readonly engine: Engine;
  private readonly ctx: BulkContext;

  constructor(transport: EngineTransport, tuning: ResolvedTuning, runtime: SinkRuntime = systemRuntime) {
    this.engine = transport.engine;
    // One sizer per sink: a warm Lambda container keeps what it learned for the next invocation.
    const sizer = tuning.adaptive
      ? new AdaptiveSizer({
          startSize: tuning.chunkSize,
          maxSize: tuning.maxChunkSize,
          targetLatencyMs: tuning.targetLatencyMs,
        })
      : undefined;
    this.ctx = { transport, tuning, runtime, ...(sizer ? { sizer } : {}) };
  }

  write<O extends SinkOperation>(ops: readonly O[], options?: WriteOptions): Promise<WriteResult<O>> {
    return writeBulk(this.ctx, ops, options);
  }

  createIndex(name: string, body?: IndexBody): Promise<{ created: boolean }> {
    return admin.createIndex(this.ctx, name, body);
  }

  deleteIndex(name: string): Promise<{ deleted: boolean }> {
    return admin.deleteIndex(this.ctx, name);
  }

  indexExists(name: string): Promise<boolean> {
    return admin.indexExists(this.ctx, name);
  }

  getAliasTargets(alias: string): Promise<string[]> {
    return admin.getAliasTargets(this.ctx, alias);
  }

  swapAlias(
    alias: string,
    index: string,
    options?: { replaceIndex?: boolean },
  ): Promise<{ previous: string[] }> {
    return admin.swapAlias(this.ctx, alias, index, options);
  }

  count(index: string, query?: Record<string, unknown>): Promise<number> {
    return admin.count(this.ctx, index, query);
  }

  refresh(index: string): Promise<void> {
    return admin.refresh(this.ctx, index);
  }

  getDocuments(
    index: string,
    ids: readonly (string | DocumentRef)[],
  ): Promise<(StoredDocument | undefined)[]> {
    return getDocuments(this.ctx, index, ids);
  }

  mappedFields(index: string): Promise<string[]> {
    return admin.mappedFields(this.ctx, index);
  }

  cloneIndex(source: string, target: string): Promise<void> {
    return admin.cloneIndex(this.ctx, source, target);
  }

  locate(index: string, ids: readonly string[]): Promise<DocumentLocation[]> {
    return locate(this.ctx, index, ids);
  }

  sampleDocuments(index: string, size: number): Promise<StoredDocument[]> {
    return sampleDocuments(this.ctx, index, size);
  }

  scanIds(index: string, cursor: string | undefined, size: number): Promise<IdPage> {
    return scanIds(this.ctx, index, cursor, size);
  }

  scan(index: string, options?: { batchSize?: number }): AsyncIterable<StoredDocument> {
    return scan(this.ctx, index, options);
  }

  info(): Promise<EngineInfo> {
    return admin.info(this.ctx);
  }

  close(): Promise<void> {
    return this.ctx.transport.close();
  }
}
