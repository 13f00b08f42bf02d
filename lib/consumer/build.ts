import type { DocumentResult } from "../document";
import type { SlotsyncError } from "../errors";
import type { QueueMessage, RangeMessage, SqsRecord } from "../queue";
import { ChunkSizer } from "./chunk-size";
import { bisect, inSavepoint, isPoisonError, reasonOf } from "./isolate";
import type { ConsumerDeps, ConsumerOptions, IndexWork } from "./types";

/** A built document with the version to write it at and the records it answers. */
export interface BuiltDocument {
  index: string;
  result: DocumentResult;
  version: bigint;
  records: string[];
  /** Set for documents copied for a bootstrap range. */
  bootstrapId?: string;
}

export interface BuildOutcome {
  /** The documents built, unless they were handed to an `emit` callback chunk by chunk. */
  documents: BuiltDocument[];
  /** The rest of ranges too large for one batch, as range messages, with the record each continues. */
  continuations: { record: SqsRecord; message: QueueMessage }[];
  /** Ranges copied to their end in this batch. */
  completedRanges: { record: SqsRecord; message: RangeMessage; documents: number }[];
  /** Keys whose document cannot be built (narrowed down to the key), with the reason. */
  poisoned: PoisonedKey[];
  /** Ranges a page of which cannot be built, with the reason. */
  failedRanges: { record: SqsRecord; message: RangeMessage; reason: string }[];
  /**
   * Records with keys the narrowing-down did not settle before the deadline (neither built nor
   * found poison): they come again.
   */
  unsettledRecords: Set<string>;
}

/** A root key whose document cannot be built, and why; every other key of its batch was built. */
export interface PoisonedKey {
  index: string;
  key: string[];
  version: bigint;
  /** The records that asked for the key. */
  records: string[];
  reason: string;
}

/**
 * Thrown by {@link buildDocuments} when a build failure turns out to be schema drift: the whole
 * batch then waits for the schema fix instead of dead-lettering key after key.
 */
export class DriftFound extends Error {
  constructor(
    readonly drift: SlotsyncError,
    readonly original: unknown,
  ) {
    super(drift.message, { cause: original });
    this.name = "DriftFound";
  }
}

/** Most pages of one range copied per batch; the rest goes back to the queue as a continuation. */
const MAX_PAGES_PER_RANGE = 10;

/**
 * Builds every document a batch asks for inside one REPEATABLE READ snapshot, so all documents of
 * the batch reflect one state of the database. Each keys message's version is at or below what
 * this snapshot sees: the poller checked that its transactions were visible before sending.
 *
 * A chunk of keys that fails with a poison error (see `isPoisonError`) is bisected down to the
 * keys that cause it; those come back in `poisoned`, every other key is built. A range page that
 * fails so puts its range in `failedRanges`. Each try runs in a savepoint, so a failed statement
 * leaves the snapshot usable. The first poison error is first checked for schema drift
 * (`deps.drift`); drift throws {@link DriftFound}. Other errors (a lost connection) are thrown.
 *
 * With `emit`, each chunk's documents (a query's worth of keys, a page of a range) are handed to
 * it as soon as they are built, instead of collected in `documents`; the next chunk is built once
 * it resolves, and an error it throws stops the build (the transaction is rolled back) and is
 * thrown.
 */
export async function buildDocuments(
  work: Map<string, IndexWork>,
  deps: ConsumerDeps,
  options: ConsumerOptions,
  emit?: (documents: BuiltDocument[]) => Promise<void>,
): Promise<BuildOutcome> {
  const outcome: BuildOutcome = {
    documents: [],
    continuations: [],
    completedRanges: [],
    poisoned: [],
    failedRanges: [],
    unsettledRecords: new Set(),
  };
  const hand = async (documents: BuiltDocument[]) => {
    if (documents.length === 0) return;
    if (emit) await emit(documents);
    else for (const d of documents) outcome.documents.push(d);
  };
  const needsDb = [...work.values()].some((w) => w.keys.size > 0 || w.ranges.length > 0);
  if (!needsDb) return outcome;
  // Schema drift makes every build fail: checked once, at the first poison error of the batch.
  let driftChecked = false;
  const stopForDrift = async (error: unknown): Promise<unknown> => {
    if (driftChecked || !deps.drift) return undefined;
    driftChecked = true;
    const drift = await deps.drift.explain(error).catch(() => undefined);
    return drift ? new DriftFound(drift, error) : undefined;
  };
  const lease = await deps.connect();
  const client = lease.client;
  let failure: Error | undefined;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    for (const [index, w] of work) {
      const builder = deps.builders.get(index);
      if (!builder) continue;
      // Per index: its rows' width decides the size of its queries and pages.
      const queries = new ChunkSizer(options.keysPerQuery, options.chunkText, "keysPerQuery");
      const pages = new ChunkSizer(options.rangePageSize, options.chunkText);
      const entries = [...w.keys.values()];
      for (let i = 0; i < entries.length; ) {
        const chunk = entries.slice(i, i + queries.next());
        i += chunk.length;
        const text = { length: 0, rows: 0 };
        const { results, poisoned, unsettled } = await bisect(
          chunk,
          (part) =>
            inSavepoint(client, async () => {
              const byKey = new Map(part.map((e) => [JSON.stringify(e.key), e]));
              const built = await builder.buildKeys(
                client,
                part.map((e) => e.key),
              );
              text.length += built.textLength;
              text.rows += built.textRows;
              // PostgreSQL returns the canonical text of each key; a key sent as "02" comes back as "2".
              return built.documents.map((result) => ({
                result,
                entry: byKey.get(JSON.stringify(result.key)) ?? newestOf(part),
              }));
            }),
          stopForDrift,
          options.deadline === undefined
            ? undefined
            : { deadline: options.deadline, ...(deps.now ? { now: deps.now } : {}) },
        );
        queries.observe(text.rows, text.length);
        for (const entry of unsettled) for (const id of entry.records) outcome.unsettledRecords.add(id);
        await hand(
          results.map(({ result, entry }) => ({
            index,
            result,
            version: entry.version,
            records: [...entry.records],
          })),
        );
        for (const { item, error } of poisoned) {
          outcome.poisoned.push({
            index,
            key: item.key,
            version: item.version,
            records: [...item.records],
            reason: `build-failed: ${reasonOf(error)}`,
          });
        }
      }
      for (const { record, message } of w.ranges) {
        let after = message.range.from === null ? undefined : message.range.from.map(String);
        const upTo = message.range.to === null ? undefined : message.range.to.map(String);
        let read = 0;
        let count = 0;
        for (;;) {
          let page: Awaited<ReturnType<typeof builder.buildRange>>;
          try {
            page = await inSavepoint(client, () =>
              builder.buildRange(client, {
                ...(after ? { after } : {}),
                ...(upTo ? { upTo } : {}),
                limit: pages.next(),
              }),
            );
          } catch (error) {
            if (!isPoisonError(error)) throw error;
            const abort = await stopForDrift(error);
            if (abort !== undefined) throw abort;
            outcome.failedRanges.push({
              record,
              message,
              reason: `build-failed: range ${message.rangeId} of ${message.bootstrapId}: ${reasonOf(error)}`,
            });
            break;
          }
          await hand(
            page.documents.map((result) => ({
              index,
              result,
              version: message.lsn,
              records: [record.messageId],
              bootstrapId: message.bootstrapId,
            })),
          );
          pages.observe(page.documents.length, page.textLength);
          count += page.documents.length;
          after = page.lastKey;
          read++;
          if (!page.more || !after) {
            outcome.completedRanges.push({ record, message, documents: count });
            break;
          }
          if (read >= MAX_PAGES_PER_RANGE) {
            outcome.continuations.push({
              record,
              message: {
                ...message,
                range: { from: after, to: message.range.to },
                sentAt: new Date().toISOString(),
              },
            });
            break;
          }
        }
      }
    }
    await client.query("COMMIT");
  } catch (error) {
    failure = error as Error;
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    lease.release(failure);
  }
  return outcome;
}

function newestOf(entries: readonly { version: bigint; records: Set<string> }[]): {
  version: bigint;
  records: Set<string>;
} {
  let version = 0n;
  const records = new Set<string>();
  for (const e of entries) {
    if (e.version > version) version = e.version;
    for (const r of e.records) records.add(r);
  }
  return { version, records };
}
