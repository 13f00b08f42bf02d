import {
  batchResponse,
  type DeadLetter,
  deadLetterFor,
  encodeMessage,
  parseSqsEvent,
  type QueueMessage,
  type RangeMessage,
  type SqsBatchResponse,
  type SqsEvent,
  type SqsRecord,
} from "../queue";
import { indexAdminOf, isStreamSink, type TruncateOperation } from "../sink";
import { type BuildOutcome, type BuiltDocument, buildDocuments, DriftFound, type PoisonedKey } from "./build";
import { markExhaustedRanges } from "./exhausted";
import { retryTransient } from "./isolate";
import { Overlap } from "./overlap";
import { runRepairs } from "./repair";
import {
  type BatchStats,
  type ConsumerDeps,
  type ConsumerOptions,
  DEFAULT_CONSUMER_OPTIONS,
  DEFAULT_LOOK_AHEAD,
  emptyBatchStats,
  type IndexWork,
} from "./types";
import { BatchWriter } from "./write";

/** The partial batch response for SQS, the counters, and the error that failed the batch, if one did. */
export interface BatchResult {
  response: SqsBatchResponse;
  stats: BatchStats;
  /** Set when building documents failed; every record that needed the database is in the response. */
  error?: unknown;
}

/**
 * Handles one SQS batch: one database snapshot, one document query per index (per chunk of keys),
 * bulk writes with external versioning, and a partial batch response naming only the records
 * that must come again. Records that can never succeed go to the dead-letter queue with a reason.
 */
export async function processBatch(
  event: SqsEvent,
  deps: ConsumerDeps,
  options: ConsumerOptions = DEFAULT_CONSUMER_OPTIONS,
): Promise<BatchResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const stats = emptyBatchStats(event.Records.length);

  const records = new Map(event.Records.map((r) => [r.messageId, r]));
  const failed = new Set<string>();
  const dead = new Map<string, string[]>();
  const kill = (record: SqsRecord, reason: string) =>
    dead.set(record.messageId, [...(dead.get(record.messageId) ?? []), reason]);

  const { valid, invalid } = parseSqsEvent(event);
  for (const { record, error } of invalid) kill(record, error.message);

  // A search engine repairs truncated indices against the database; a stream sink keeps no
  // documents and gets truncate records instead.
  const admin = indexAdminOf(deps.sink);
  const stream = isStreamSink(deps.sink) ? deps.sink : undefined;
  const work = new Map<string, IndexWork>();
  for (const { record, message } of valid) {
    if (!deps.builders.has(message.index)) {
      kill(
        record,
        `index "${message.index}" is not in the schema this consumer runs with; deploy the matching schema`,
      );
      continue;
    }
    addWork(work, record, message, stream !== undefined);
  }
  for (const w of work.values()) stats.keys += w.keys.size;

  let batchError: unknown;
  let completedRanges: BuildOutcome["completedRanges"] = [];
  let continuations: BuildOutcome["continuations"] = [];
  let poisoned: PoisonedKey[] = [];
  const writer = new BatchWriter(deps, options, { records, failed, kill, stats });
  // Chunk N+1 of the batch is built while chunk N is written, with at most `lookAhead` chunks
  // built and not yet written (see Overlap).
  const overlap = new Overlap<BuiltDocument[]>(
    (docs) => writer.writeDocuments(docs),
    options.lookAhead ?? DEFAULT_LOOK_AHEAD,
  );
  try {
    await deps.refreshBuilders?.();
    const result = await buildDocuments(work, deps, options, (docs) => overlap.push(docs));
    await overlap.drain();
    completedRanges = result.completedRanges;
    continuations = result.continuations;
    poisoned = result.poisoned;
    for (const r of result.failedRanges) kill(r.record, r.reason);
    for (const id of result.unsettledRecords) failed.add(id);
  } catch (error) {
    // A write that could not succeed at all (bad credentials...) fails the batch as it is.
    const writeError = await overlap.stop();
    if (writeError !== undefined) throw writeError;
    // Building failed: what was written already is harmless (written again at the same version
    // when its record comes again); every record that needed the database comes again.
    const needed = new Set<string>();
    for (const w of work.values()) {
      for (const k of w.keys.values()) for (const id of k.records) needed.add(id);
      for (const r of w.ranges) needed.add(r.record.messageId);
    }
    const port = deps.drift;
    // Only a poison error is checked for drift (in buildDocuments); anything else is transient.
    const drift = error instanceof DriftFound ? error.drift : undefined;
    if (!drift || !port) {
      // Nothing dead-lettered: every record comes again, truncates and records bound for the
      // DLQ included (returning early must not let SQS delete them).
      for (const record of event.Records) failed.add(record.messageId);
      await markExhaustedRanges(work, failed, deps, error);
      stats.failed = failed.size;
      stats.durationMs = now() - started;
      return { response: batchResponse(failed), stats, error };
    }
    // Schema drift: retrying soon cannot help. The records wait with a long back-off for the
    // schema fix; those on their last delivery go to the DLQ with the reason (the re-index after
    // the fix rebuilds their documents). The rest of the batch (truncates, bad records) goes on.
    const blocked = [...needed].map((id) => records.get(id) as SqsRecord);
    const waiting = blocked.filter(
      (r) => Number(r.attributes?.ApproximateReceiveCount ?? 1) < port.maxReceives,
    );
    for (const r of blocked) {
      if (waiting.includes(r)) failed.add(r.messageId);
      else
        kill(r, `schema-drift: ${drift.message}; the re-index after the schema fix rebuilds these documents`);
    }
    await port.delay(waiting).catch(() => undefined);
    stats.delayed = waiting.length;
    batchError = drift;
  }

  const retry = deps.sleep ? { sleep: deps.sleep } : {};
  if (stream) {
    const truncates: TruncateOperation[] = [];
    for (const [index, w] of work) {
      for (const t of w.truncates) {
        for (const target of await writer.targetsOr([t.record.messageId], index)) {
          truncates.push({ kind: "truncate", index: target, version: t.version, ref: [t.record.messageId] });
        }
      }
    }
    await writer.writeTruncates(stream, truncates);
  }
  batchError ??= writer.error;

  // Truncates and rebuilds reconcile the index with the database in bounded pages, after the
  // batch's own writes, continuing in a follow-up message when the deadline nears.
  const repairs = new Map([...work].map(([index, w]) => [index, w.repairs]));
  if (admin && [...repairs.values()].some((list) => list.length > 0)) {
    const repaired = await runRepairs(repairs, deps, admin, options, (index) => writer.targetsOf(index));
    for (const id of repaired.failed) failed.add(id);
    if (repaired.error !== undefined) batchError ??= repaired.error;
  }

  // The rest of a range too large for one batch is queued only once this part was written: a
  // record that comes again copies its part again and queues the rest then.
  const onward = continuations.filter(
    (c) => !failed.has(c.record.messageId) && !dead.has(c.record.messageId),
  );
  if (deps.enqueue && onward.length > 0) {
    try {
      await deps.enqueue(onward.map((c) => c.message));
    } catch (error) {
      for (const c of onward) failed.add(c.record.messageId);
      batchError ??= error;
    }
  }

  const rangeDone = deps.rangeDone;
  if (rangeDone) {
    for (const r of completedRanges) {
      const id = r.record.messageId;
      if (failed.has(id) || dead.has(id)) continue;
      try {
        await retryTransient(() => rangeDone(r.message.bootstrapId, r.message.rangeId, r.documents), retry);
      } catch (error) {
        // Written, but not recorded as done: the range comes again (its copy is idempotent).
        failed.add(id);
        batchError ??= error;
      }
    }
  }

  // A poisoned key is dead-lettered alone, as a keys message of its own, once every record that
  // asked for it is settled (written or dead-lettered itself): a record that comes again would
  // bring the key again and dead-letter it then.
  const keyLetters = poisoned.filter(
    (p) => p.records.every((id) => !failed.has(id)) && !p.records.every((id) => dead.has(id)),
  );
  const letters = [...dead].filter(([id]) => !failed.has(id));
  const outgoing: DeadLetter[] = [
    ...letters.map(([id, reasons]) =>
      deadLetterFor(records.get(id) as SqsRecord, reasons.slice(0, 5).join("; ")),
    ),
    ...keyLetters.map((p) => keyLetter(p, records.get(p.records[0] as string) as SqsRecord)),
  ];
  if (outgoing.length > 0) {
    try {
      await deps.deadLetter(outgoing);
      stats.deadLettered = outgoing.length;
      stats.poisoned = keyLetters.length;
    } catch {
      // Not in the DLQ yet: let SQS deliver them again rather than lose them.
      for (const [id] of letters) failed.add(id);
      for (const p of keyLetters) for (const id of p.records) failed.add(id);
    }
  }
  // Every range record that went to the dead-letter path (a page that cannot be built, a rejected
  // document, schema drift on its last delivery) marks its range failed, with the reason.
  const rangeFailed = deps.rangeFailed;
  if (rangeFailed && stats.deadLettered > 0) {
    const rangeById = new Map<string, RangeMessage>();
    for (const w of work.values()) for (const r of w.ranges) rangeById.set(r.record.messageId, r.message);
    for (const [id, reasons] of letters) {
      const range = rangeById.get(id);
      if (!range) continue;
      await retryTransient(
        () => rangeFailed(range.bootstrapId, range.rangeId, reasons.join("; ")),
        retry,
      ).catch((error: unknown) => {
        // The dead letter holds the range; `bootstrap --resume` re-sends it once it is stale.
        batchError ??= error;
      });
    }
  }
  // Records held back only by the deadline or by the engine's pushback go back as new messages
  // (delayed after pushback): their receive count is not used up, so a slow engine never pushes
  // them into the dead-letter queue. When requeueing fails they come again the usual way.
  const requeue = deps.defer;
  if (requeue) {
    const plan = writer.deferral.plan(failed, valid, options);
    for (const [delaySeconds, entries] of plan) {
      try {
        await requeue(
          entries.map((e) => e.message),
          delaySeconds,
        );
        for (const e of entries) failed.delete(e.record.messageId);
        stats.deferred = (stats.deferred ?? 0) + entries.length;
      } catch (error) {
        batchError ??= error;
      }
    }
  }
  // What still fails on its last delivery goes to the DLQ through SQS: its ranges are marked failed.
  const exhausted = await markExhaustedRanges(work, failed, deps, batchError);
  if (exhausted !== undefined) batchError ??= exhausted;
  stats.failed = failed.size;
  stats.durationMs = now() - started;
  return {
    response: batchResponse(failed),
    stats,
    ...(batchError === undefined ? {} : { error: batchError }),
  };
}

/** The dead letter of one poisoned key: a keys message for it alone, so it can be redriven. */
function keyLetter(p: PoisonedKey, record: SqsRecord): DeadLetter {
  const body = encodeMessage({
    kind: "keys",
    index: p.index,
    keys: [p.key],
    lsn: p.version,
    sentAt: new Date().toISOString(),
  });
  return { ...deadLetterFor(record, p.reason), body };
}

function addWork(
  work: Map<string, IndexWork>,
  record: SqsRecord,
  message: QueueMessage,
  stream: boolean,
): void {
  let w = work.get(message.index);
  if (!w) {
    w = { keys: new Map(), ranges: [], truncates: [], repairs: [] };
    work.set(message.index, w);
  }
  switch (message.kind) {
    case "keys":
      for (const key of message.keys) {
        const text = key.map((v) => String(v));
        const id = JSON.stringify(text);
        const entry = w.keys.get(id);
        if (entry) {
          if (message.lsn > entry.version) entry.version = message.lsn;
          entry.records.add(record.messageId);
        } else {
          w.keys.set(id, { key: text, version: message.lsn, records: new Set([record.messageId]) });
        }
      }
      break;
    case "range":
      w.ranges.push({ record, message });
      break;
    case "truncate":
      // A stream keeps no documents to compare: it gets one truncate record.
      if (stream) w.truncates.push({ record, version: message.lsn });
      else w.repairs.push({ record, message });
      break;
    case "rebuild":
      if (!stream) {
        w.repairs.push({ record, message });
        break;
      }
      // A child table was truncated: every document of the index is copied again, as one range
      // over the whole root table, continued across batches when it is large.
      w.ranges.push({
        record,
        message: {
          kind: "range",
          index: message.index,
          range: { from: null, to: null },
          lsn: message.lsn,
          bootstrapId: `rebuild-${message.lsn}`,
          rangeId: "all",
          sentAt: message.sentAt,
        },
      });
      break;
    default: {
      const unknown: never = message;
      throw new Error(`unhandled message kind in ${JSON.stringify(unknown)}`);
    }
  }
}
