import type pg from "pg";
import { type CompletionDeps, type CompletionOptions, consumerBootstrapHooks } from "../bootstrap";
import type { ConsumerDeps } from "../consumer";
import { lender } from "../database";
import type { DocumentBuilder } from "../document";
import { consumerDriftPort, type DriftGuard, type RecordDelayer } from "../drift";
import type { DeadLetter, QueueMessage } from "../queue";
import type { ResolvedSchema, ResolveOptions, SchemaSpec } from "../schema";
import { CheckpointReconcileStore } from "./adapters";
import { builderRefresher } from "./columns";

/** Everything a consumer is made of, whoever runs it: the consumer Lambda, `slotsync run`, `slotsync bootstrap`. */
export interface ConsumerWiring {
  /** Lends the connections each batch builds its documents from (one snapshot per batch). */
  pool: Pick<pg.Pool, "connect">;
  /** One builder per schema index (`createBuilders`). */
  builders: ReadonlyMap<string, DocumentBuilder>;
  /** The slot, sink and checkpoint store; `schedule` and `holder` when the process has them. */
  completion: CompletionDeps;
  /** Write-target cache, grace before retiring an old index, and the other completion timings. */
  timing: CompletionOptions & { targetsCacheMs: number };
  /** Where records and keys that can never succeed go (the DLQ, or the run's dead-letter file). */
  deadLetter(letters: DeadLetter[]): Promise<void>;
  /** Where follow-up messages go (range messages of a rebuild, the next slice of a repair). */
  enqueue(messages: QueueMessage[]): Promise<void>;
  /**
   * Sends records held back by the write deadline or the engine's pushback again as new messages,
   * after `delaySeconds` (SQS; see `ConsumerDeps.defer`). Absent in process, where nothing counts
   * receives: such records simply fail and come again.
   */
  defer?(messages: QueueMessage[], delaySeconds: number): Promise<void>;
  /**
   * Schema drift handling: the guard that tells drift from other build failures, how blocked
   * records wait (SQS visibility; absent in process, where drift stops the run) and after how many
   * deliveries they are dead-lettered. Without it a build failure is retried as usual.
   */
  drift?: { guard: DriftGuard; delayer?: RecordDelayer; maxReceives: number };
  /**
   * The parsed schema and what it resolved to: with them, nodes that take every column follow
   * columns added to their tables (the builders are made again before a batch that needs it).
   */
  schema?: {
    spec: SchemaSpec;
    resolved: ResolvedSchema;
    pluginsDir?: string | undefined;
    resolve?: ResolveOptions;
  };
}

/**
 * The one composition root of the consumer: the Lambda, `slotsync run` and `slotsync bootstrap`
 * all build their {@link ConsumerDeps} here, so each gets the same hooks (bootstrap ranges and
 * completion, resumable repairs in the checkpoint store, drift), and a new dependency is added once.
 */
export function createConsumerDeps(wiring: ConsumerWiring): ConsumerDeps {
  const connect = lender(wiring.pool);
  const { completion } = wiring;
  const builders = new Map(wiring.builders);
  const refresh = wiring.schema
    ? builderRefresher({
        spec: wiring.schema.spec,
        schema: wiring.schema.resolved,
        builders,
        pluginsDir: wiring.schema.pluginsDir,
        ...(wiring.schema.resolve ? { resolve: wiring.schema.resolve } : {}),
        connect,
      })
    : undefined;
  return {
    connect,
    builders,
    ...(refresh ? { refreshBuilders: refresh } : {}),
    sink: completion.sink,
    deadLetter: (letters) => wiring.deadLetter(letters),
    enqueue: (messages) => wiring.enqueue(messages),
    ...(wiring.defer ? { defer: wiring.defer } : {}),
    reconcileStore: new CheckpointReconcileStore(completion.store, completion.slot),
    ...consumerBootstrapHooks(completion, wiring.timing),
    ...(wiring.drift
      ? { drift: consumerDriftPort({ ...wiring.drift, connect }), maxReceives: wiring.drift.maxReceives }
      : {}),
  };
}
