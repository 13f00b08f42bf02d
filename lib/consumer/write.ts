import type { SqsRecord } from "../queue";
import { documentOperation } from "../reconcile";
import {
  indexAdminOf,
  type SearchSink,
  type SinkOperation,
  type StreamOperation,
  type StreamSink,
  type TruncateOperation,
  type WriteOptions,
  type WriteResult,
} from "../sink";
import type { BuiltDocument } from "./build";
import { Deferral } from "./defer";
import { retryTransient } from "./isolate";
import { routeOperations } from "./routing";
import type { BatchStats, ConsumerDeps, ConsumerOptions } from "./types";

/** Write counters summed over a batch's writes. */
const SUMMED = [
  "indexed",
  "deleted",
  "stale",
  "rejected",
  "retryable",
  "retried",
  "requests",
  "bytes",
] as const;

/**
 * Writes one batch's documents, chunk after chunk as they are built, and keeps what the writes
 * said about the batch's records: the records to deliver again (`failed`), the records the engine
 * refused (`kill`, to the dead-letter path), the records to requeue (`deferral`), and the counters.
 */
export class BatchWriter {
  /** Per record: the engine's answers decide whether it is requeued and with which keys. */
  readonly deferral: Deferral;
  /** The first error that failed some records without failing the batch (a target lookup). */
  error: unknown;
  private readonly targetCache = new Map<string, Promise<readonly string[]>>();
  /** A search engine, for the custom-routing lookups; undefined for a stream sink. */
  private readonly admin: SearchSink | undefined;

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly options: ConsumerOptions,
    private readonly batch: {
      records: ReadonlyMap<string, SqsRecord>;
      failed: Set<string>;
      kill(record: SqsRecord, reason: string): void;
      stats: BatchStats;
    },
  ) {
    this.deferral = new Deferral();
    this.admin = indexAdminOf(deps.sink);
  }

  /**
   * The physical indices to write a schema index's documents to (cached for the batch; retried
   * while the checkpoint store fails transiently).
   */
  targetsOf(index: string, bootstrapId?: string): Promise<readonly string[]> {
    const key = JSON.stringify([index, bootstrapId ?? null]);
    let found = this.targetCache.get(key);
    if (!found) {
      const lookup = this.deps.targets;
      const retry = this.deps.sleep ? { sleep: this.deps.sleep } : {};
      found = lookup
        ? retryTransient(() => lookup(index, bootstrapId ? { bootstrapId } : undefined), retry)
        : Promise.resolve([index]);
      this.targetCache.set(key, found);
    }
    return found;
  }

  /**
   * The targets, or none when the lookup still fails after its retries (the checkpoint store is
   * down): the records asking come again, the rest of the batch is written.
   */
  async targetsOr(refs: Iterable<string>, index: string, bootstrapId?: string): Promise<readonly string[]> {
    try {
      return await this.targetsOf(index, bootstrapId);
    } catch (error) {
      for (const id of refs) this.batch.failed.add(id);
      this.error ??= error;
      return [];
    }
  }

  /** Writes a chunk of built documents to each of their targets. */
  async writeDocuments(docs: readonly BuiltDocument[]): Promise<void> {
    const ops: SinkOperation[] = [];
    // The root key behind each write, to requeue only the keys a deferred record still needs.
    // Local to the chunk, so nothing holds its operations (and their sources) once it is written.
    const keys = new Map<SinkOperation, readonly string[]>();
    // Documents of indices with custom routing: the sink cannot find their shard from the id.
    const routed = new Set<SinkOperation>();
    // Targets and routing per index (and bootstrap) of the chunk, looked up once, not per document;
    // consecutive documents nearly always share their group, so it is found again only on a change.
    const groups = new Map<string, ChunkGroup>();
    let last: BuiltDocument | undefined;
    let group: ChunkGroup | undefined;
    for (const doc of docs) {
      this.batch.stats.documents++;
      if (last === undefined || !sameGroup(last, doc)) {
        group = await this.groupOf(groups, docs, doc);
        last = doc;
      }
      if (!group) continue;
      for (const target of group.targets) {
        const op = documentOperation(doc.result, doc.version, target, doc.records);
        ops.push(op);
        keys.set(op, doc.result.key);
        if (group.customRouting) routed.add(op);
      }
    }
    await this.write(ops, routed, keys);
  }

  /** The targets and routing of `doc`'s group in the chunk `docs`, looked up on its first document. */
  private async groupOf(
    groups: Map<string, ChunkGroup>,
    docs: readonly BuiltDocument[],
    doc: BuiltDocument,
  ): Promise<ChunkGroup> {
    const name = groupName(doc);
    const known = groups.get(name);
    if (known) return known;
    const group = {
      targets: await this.targetsOr(recordsOf(docs, name), doc.index, doc.bootstrapId),
      customRouting:
        this.admin !== undefined && this.deps.builders.get(doc.index)?.index.spec.routing !== undefined,
    };
    groups.set(name, group);
    return group;
  }

  /**
   * Writes operations with external versioning and takes in the outcomes: a retryable one fails
   * its records, a rejected one sends them to the dead-letter path.
   * @throws what `DocumentWriter.write` throws when nothing can succeed (bad credentials...).
   */
  async write(
    ops: readonly SinkOperation[],
    routed: ReadonlySet<SinkOperation> = new Set(),
    keys?: ReadonlyMap<SinkOperation, readonly string[]>,
  ): Promise<void> {
    const writes = this.admin ? await routeOperations(this.admin, ops, routed) : ops;
    if (writes.length > 0) this.take(await this.deps.sink.write(writes, this.writeOptions()), keys);
  }

  /** Writes a stream sink's truncates, one `truncate` record each, and takes in the outcomes. */
  async writeTruncates(sink: StreamSink, truncates: readonly TruncateOperation[]): Promise<void> {
    if (truncates.length > 0) this.take(await sink.write(truncates, this.writeOptions()));
  }

  private writeOptions(): WriteOptions {
    const deadline = this.options.deadline;
    return deadline === undefined ? {} : { deadline };
  }

  /** Takes in a write's outcomes; `keys` names the root key behind each document write. */
  private take(
    { outcomes, stats: write }: WriteResult<StreamOperation>,
    keys?: ReadonlyMap<SinkOperation, readonly string[]>,
  ): void {
    const { stats } = this.batch;
    for (const key of SUMMED) stats[key] += write[key];
    stats.requestMs = (stats.requestMs ?? 0) + (write.requestMs ?? 0);
    stats.throttledRequests = (stats.throttledRequests ?? 0) + (write.throttledRequests ?? 0);
    if (write.chunkSize !== undefined) stats.chunkSize = write.chunkSize;
    for (const outcome of outcomes) {
      const refs = (outcome.op.ref as string[] | undefined) ?? [];
      const key = outcome.op.kind === "truncate" ? undefined : keys?.get(outcome.op);
      this.deferral.record(outcome, refs, key);
      if (outcome.status === "retryable") for (const id of refs) this.batch.failed.add(id);
      if (outcome.status === "rejected") {
        const what = outcome.op.kind === "truncate" ? "truncate" : `document ${outcome.op.id}`;
        for (const id of refs) {
          const record = this.batch.records.get(id);
          if (record)
            this.batch.kill(
              record,
              `${what} rejected by ${outcome.op.index}: ${outcome.reason ?? "no reason given"}`,
            );
        }
      }
    }
  }
}

/** Where a chunk's documents of one group go: its targets, and whether its index routes by a field. */
interface ChunkGroup {
  targets: readonly string[];
  customRouting: boolean;
}

/** Documents of one index (and one bootstrap copy) go to the same targets. */
function groupName(doc: BuiltDocument): string {
  return doc.bootstrapId === undefined ? doc.index : `${doc.index}\u0000${doc.bootstrapId}`;
}

/** True when `a` and `b` are of one group (see groupName), without building its name. */
function sameGroup(a: BuiltDocument, b: BuiltDocument): boolean {
  return a.index === b.index && a.bootstrapId === b.bootstrapId;
}

/** The records behind a group's documents, walked only when its target lookup failed. */
function* recordsOf(docs: readonly BuiltDocument[], group: string): Iterable<string> {
  for (const doc of docs) if (groupName(doc) === group) yield* doc.records;
}
