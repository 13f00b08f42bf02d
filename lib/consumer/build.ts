import type { DocumentResult } from "../document";
import type { QueueMessage, RangeMessage, SqsRecord } from "../queue";
import type { IndexWork } from "./batch";
import type { ConsumerDeps, ConsumerOptions } from "./types";

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
  documents: BuiltDocument[];
  /** Range messages for the rest of ranges that were too large for one batch. */
  continuations: QueueMessage[];
  /** Ranges copied to their end in this batch. */
  completedRanges: { record: SqsRecord; message: RangeMessage; documents: number }[];
}

/** Most pages of one range copied per batch; the rest goes back to the queue as a continuation. */
const MAX_PAGES_PER_RANGE = 10;

/**
 * Builds every document a batch asks for inside one REPEATABLE READ snapshot, so all documents of
 * the batch reflect one state of the database. Each keys message's version is at or below what
 * this snapshot sees: the poller checked that its transactions were visible before sending.
 */
export async function buildDocuments(
  work: Map<string, IndexWork>,
  deps: ConsumerDeps,
  options: ConsumerOptions,
): Promise<BuildOutcome> {
  const outcome: BuildOutcome = { documents: [], continuations: [], completedRanges: [] };
  const needsDb = [...work.values()].some((w) => w.keys.size > 0 || w.ranges.length > 0);
  if (!needsDb) return outcome;
  const lease = await deps.connect();
  let failure: Error | undefined;
  try {
    await lease.client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    for (const [index, w] of work) {
      const builder = deps.builders.get(index);
      if (!builder) continue;
      const entries = [...w.keys.values()];
      for (let i = 0; i < entries.length; i += options.keysPerQuery) {
        const chunk = entries.slice(i, i + options.keysPerQuery);
        const byKey = new Map(chunk.map((e) => [JSON.stringify(e.key), e]));
        const results = await builder.build(
          lease.client,
          chunk.map((e) => e.key),
        );
        for (const result of results) {
          // PostgreSQL returns the canonical text of each key; a key sent as "02" comes back as "2".
          const entry = byKey.get(JSON.stringify(result.key)) ?? newestOf(chunk);
          outcome.documents.push({ index, result, version: entry.version, records: [...entry.records] });
        }
      }
      for (const { record, message } of w.ranges) {
        let after = message.range.from === null ? undefined : message.range.from.map(String);
        const upTo = message.range.to === null ? undefined : message.range.to.map(String);
        let pages = 0;
        let count = 0;
        for (;;) {
          const page = await builder.buildRange(lease.client, {
            ...(after ? { after } : {}),
            ...(upTo ? { upTo } : {}),
            limit: options.rangePageSize,
          });
          for (const result of page.documents) {
            outcome.documents.push({
              index,
              result,
              version: message.lsn,
              records: [record.messageId],
              bootstrapId: message.bootstrapId,
            });
          }
          count += page.documents.length;
          after = page.lastKey;
          pages++;
          if (!page.more || !after) {
            outcome.completedRanges.push({ record, message, documents: count });
            break;
          }
          if (pages >= MAX_PAGES_PER_RANGE) {
            outcome.continuations.push({
              ...message,
              range: { from: after, to: message.range.to },
              sentAt: new Date().toISOString(),
            });
            break;
          }
        }
      }
    }
    await lease.client.query("COMMIT");
  } catch (error) {
    failure = error as Error;
    await lease.client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    lease.release(failure);
  }
  return outcome;
}

function newestOf(entries: { version: bigint; records: Set<string> }[]): {
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
