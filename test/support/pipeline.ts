import pg from "pg";
import type { CheckpointStore, Lease } from "../../lib/checkpoint";
import { type ConsumerDeps, DEFAULT_CONSUMER_OPTIONS, processBatch } from "../../lib/consumer";
import type { DocumentBuilder } from "../../lib/document";
import { type Handoff, runCycle } from "../../lib/poller";
import { encodeMessage, type QueueMessage, type SqsEvent } from "../../lib/queue";
import { ChangeResolver } from "../../lib/resolve";
import {
  builderRefresher,
  CheckpointPollerState,
  CheckpointReconcileStore,
  handoffMessages,
} from "../../lib/runtime";
import type { ResolvedSchema, SchemaSpec } from "../../lib/schema";
import type { SearchSink } from "../../lib/sink";
import { PgSlotReader } from "../../lib/slot";
import { CollectingPublisher } from "./collecting-publisher";
import { type ConsistencyReport, compareIndexWithDatabase } from "./consistency";

export interface PipelineOptions {
  dbUrl: string;
  slot: string;
  schema: ResolvedSchema;
  builders: ReadonlyMap<string, DocumentBuilder>;
  sink: SearchSink;
  /** Physical index per schema index. */
  targets: ReadonlyMap<string, string>;
  /** The checkpoint store (real Upstash) for leaf sets and reconcile progress. */
  store: CheckpointStore & Lease;
  /** Time each consumer batch may take (its deadline), as a Lambda's remaining time would. */
  batchBudgetMs?: number;
  /** The parsed schema: with it, consumers follow columns added to all-columns tables, as in Lambda. */
  spec?: SchemaSpec;
}

/** Deliveries of one message after which a failing record fails the test. */
const MAX_DELIVERIES = 5;

/** What {@link SyncPipeline.drain} did. */
export interface DrainReport {
  cycles: number;
  batches: number;
  /** Messages handled, continuations included. */
  messages: number;
  /** Follow-up messages consumers queued (repairs continued after a deadline). */
  continuations: number;
}

/**
 * The sync in one process, with the production parts: poller cycles on a real slot (leaf sets in
 * the real checkpoint store), the handoffs turned into version-1 queue messages as SQS would carry
 * them, and consumer batches (reconcile progress in the checkpoint store, follow-ups queued back).
 * Only the queue is in memory, and a batch's deadline stands for the Lambda's remaining time.
 */
export class SyncPipeline {
  private readonly queue: QueueMessage[] = [];
  private readonly publisher = new CollectingPublisher();
  private readonly resolver: ChangeResolver;
  private poller: pg.Client | undefined;
  private pool: pg.Pool | undefined;
  private seq = 0;
  /** Failed deliveries per queued message (SQS's receive count, less one). */
  private readonly deliveries = new WeakMap<QueueMessage, number>();
  /** The consumers' builders (made again when an all-columns table's columns change). */
  private readonly consumerBuilders: Map<string, DocumentBuilder>;
  private refresh: (() => Promise<void>) | undefined;
  /** What the last poller cycle handed on. */
  lastHandoffs: Handoff[] = [];
  /** Time each consumer batch may take; see {@link PipelineOptions.batchBudgetMs}. */
  batchBudgetMs: number | undefined;
  /** Pages a repair does per consumer batch at most; see `ConsumerOptions.repairPagesPerSlice`. */
  repairPagesPerSlice: number | undefined;
  readonly totals: DrainReport = { cycles: 0, batches: 0, messages: 0, continuations: 0 };

  constructor(private readonly options: PipelineOptions) {
    this.resolver = new ChangeResolver(options.schema);
    this.batchBudgetMs = options.batchBudgetMs;
    this.consumerBuilders = new Map(options.builders);
  }

  async open(): Promise<void> {
    this.poller = new pg.Client({ connectionString: this.options.dbUrl });
    await this.poller.connect();
    this.pool = new pg.Pool({ connectionString: this.options.dbUrl, max: 3, options: "-c TimeZone=UTC" });
    const pool = this.pool;
    if (this.options.spec) {
      this.refresh = builderRefresher({
        spec: this.options.spec,
        schema: this.options.schema,
        builders: this.consumerBuilders,
        resolve: { checkDatabaseName: false },
        connect: async () => {
          const c = await pool.connect();
          return { client: c, release: (e?: Error) => c.release(e) };
        },
      });
    }
  }

  async close(): Promise<void> {
    await this.poller?.end();
    await this.pool?.end();
  }

  /** Adds messages to the queue, as an operator or bootstrap would send them. */
  enqueue(messages: readonly QueueMessage[]): void {
    this.queue.push(...messages);
  }

  /** One poller cycle; its messages join the queue. */
  async poll(): Promise<number> {
    const db = this.poller as pg.Client;
    const state = new CheckpointPollerState(this.options.store);
    const slot = this.options.slot;
    this.publisher.clear();
    const result = await runCycle({
      db,
      reader: new PgSlotReader(db, slot),
      resolver: this.resolver,
      publisher: this.publisher,
      leafSets: {
        read: () => state.readLeaves(slot),
        write: (leaves) => state.writeLeaves(slot, 0, leaves),
      },
      columnSets: {
        read: () => state.readColumns(slot),
        write: (columns) => state.writeColumns(slot, 0, columns),
      },
    });
    this.lastHandoffs = [...this.publisher.accepted];
    this.queue.push(...handoffMessages(this.publisher.accepted));
    this.totals.cycles++;
    return result.changes + result.partitionChanges + result.columnChanges;
  }

  /**
   * Consumer batches of up to 10 messages until the queue is empty (follow-ups included). A record
   * the batch reports failed comes again, as SQS redelivers it; one that fails
   * {@link MAX_DELIVERIES} times fails the test (the stack would dead-letter it).
   */
  async consume(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 10);
      const ids = batch.map(() => `p${++this.seq}`);
      const event: SqsEvent = {
        Records: batch.map((m, i) => ({
          messageId: ids[i] as string,
          body: encodeMessage(m),
          attributes: { ApproximateReceiveCount: String((this.deliveries.get(m) ?? 0) + 1) },
        })),
      };
      const budget = this.batchBudgetMs;
      const result = await processBatch(event, this.deps(), {
        ...DEFAULT_CONSUMER_OPTIONS,
        ...(budget === undefined ? {} : { deadline: Date.now() + budget }),
        ...(this.repairPagesPerSlice === undefined ? {} : { repairPagesPerSlice: this.repairPagesPerSlice }),
      });
      this.totals.batches++;
      this.totals.messages += batch.length;
      const failed = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
      batch.forEach((message, i) => {
        if (!failed.has(ids[i] as string)) return;
        const deliveries = (this.deliveries.get(message) ?? 0) + 1;
        if (deliveries >= MAX_DELIVERIES) {
          throw new Error(
            `consumer batch failed ${deliveries} times: ${result.error instanceof Error ? result.error.message : String(result.error)}`,
          );
        }
        this.deliveries.set(message, deliveries);
        this.queue.push(message);
      });
    }
  }

  /** Polls and consumes until a cycle finds nothing left to do. */
  async drain(maxCycles = 50): Promise<void> {
    for (let i = 0; i < maxCycles; i++) {
      const work = await this.poll();
      const queued = this.queue.length;
      await this.consume();
      if (work === 0 && queued === 0) return;
    }
    throw new Error(`the sync did not settle within ${maxCycles} cycles`);
  }

  /** The index of `index` against the database (`slotsync render`'s documents). */
  async compare(index: string): Promise<ConsistencyReport> {
    const builder = this.options.builders.get(index);
    const target = this.options.targets.get(index);
    if (!builder || !target) throw new Error(`no index ${index}`);
    const client = await (this.pool as pg.Pool).connect();
    try {
      return await compareIndexWithDatabase({ sink: this.options.sink, index: target, builder, client });
    } finally {
      client.release();
    }
  }

  private deps(): ConsumerDeps {
    const pool = this.pool as pg.Pool;
    return {
      connect: async () => {
        const c = await pool.connect();
        return { client: c, release: (e?: Error) => c.release(e) };
      },
      builders: this.consumerBuilders,
      ...(this.refresh ? { refreshBuilders: this.refresh } : {}),
      sink: this.options.sink,
      deadLetter: async (letters) => {
        throw new Error(`unexpected dead letters: ${JSON.stringify(letters).slice(0, 500)}`);
      },
      targets: async (index) => [this.options.targets.get(index) ?? index],
      enqueue: async (messages) => {
        this.totals.continuations += messages.length;
        this.queue.push(...messages);
      },
      reconcileStore: new CheckpointReconcileStore(this.options.store, this.options.slot),
    };
  }
}
