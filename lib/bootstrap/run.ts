import { randomBytes } from "node:crypto";
import type { BootstrapProgress } from "../checkpoint";
import type { RangeMessage } from "../queue";
import type { ResolvedIndex } from "../schema";
import { indexAdminOf } from "../sink";
import { copyIndexBody } from "./body";
import { completeLocked, DEFAULT_GRACE_MS, deleteRetired } from "./complete";
import { checkDatabase } from "./database";
import { BootstrapError } from "./errors";
import { withBootstrapLock } from "./lock";
import { bodyHash, bootstrapIdFor, concreteIndexName, indexVersion } from "./naming";
import { decodeRangeId } from "./ranges";
import { type IndexRecord, readIndexRecord, writeIndexRecord } from "./record";
import { ensureSlot, readSlotPosition, type SlotPosition } from "./slot";
import { DEFAULT_SPLIT_OPTIONS, planRanges } from "./split";
import { DEFAULT_TARGETS_CACHE_MS } from "./targets";
import type {
  BootstrapDeps,
  BootstrapOptions,
  BootstrapSummary,
  IndexBootstrapSummary,
  IndexState,
} from "./types";

/** Default age after which a sent range that is not done is sent again on resume. */
export const DEFAULT_RESEND_AFTER_MS = 30 * 60_000;
/** Range messages per publish call. */
const SEND_CHUNK = 100;
/** Concurrent `markRange` calls after a chunk was accepted. */
const MARK_CONCURRENCY = 16;

interface Context {
  deps: BootstrapDeps;
  options: BootstrapOptions;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  position: SlotPosition;
}

/**
 * Starts or resumes the copy of every index of the schema (or `options.indices`), returning well
 * before the copy ends: it plans and sends range messages, consumers do the copying, and the last
 * range's `rangeDone` (or a later call) switches the alias.
 *
 * Per index: an unfinished copy is resumed (never a second slot, index or plan); otherwise a new
 * copy starts when the index is not served yet, when `reindex` is set, or when this call had to
 * create the slot (whatever an existing index holds missed the changes made without a slot).
 * @throws PrerequisiteError listing every database problem with its fix; BootstrapBusyError when
 *   another bootstrap, completion or reset of the slot is running.
 */
export async function runBootstrap(
  deps: BootstrapDeps,
  options: BootstrapOptions = {},
): Promise<BootstrapSummary> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const indices = selectIndices(deps, options.indices);
  const holder = deps.holder ?? `bootstrap-${randomBytes(4).toString("hex")}`;
  return withBootstrapLock(deps.store, deps.slot, { holder, now, sleep }, async () => {
    await checkDatabase(deps, options);
    // Resuming never creates a slot: a missing one means the copies lost their changes.
    const position: SlotPosition = options.resumeOnly
      ? { created: false, lsn: await readSlotPosition(deps.db, deps.slot) }
      : await ensureSlot(deps.db, deps.slot);
    if (position.created) {
      options.onEvent?.({ step: "slot-created", slot: deps.slot, lsn: position.lsn.toString() });
    }
    const ctx: Context = { deps, options, now, sleep, position };
    const summaries: IndexBootstrapSummary[] = [];
    for (const index of indices) summaries.push(await bootstrapIndex(ctx, index));
    return { slot: deps.slot, slotCreated: position.created, indices: summaries };
  });
}

function selectIndices(deps: BootstrapDeps, names: readonly string[] | undefined): ResolvedIndex[] {
  const all = deps.schema.indices;
  if (!names || names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((i) => i.spec.index === n));
  if (unknown.length > 0) {
    throw new BootstrapError(`index ${unknown.join(", ")} is not in the schema`, {
      where: "indices",
      fix: `choose from: ${all.map((i) => i.spec.index).join(", ")}`,
    });
  }
  return all.filter((i) => names.includes(i.spec.index));
}

async function bootstrapIndex(ctx: Context, index: ResolvedIndex): Promise<IndexBootstrapSummary> {
  const { deps, options, now, position } = ctx;
  const name = index.spec.index;
  // A stream sink (webhook, NDJSON) has no index or alias: the copy is emitted under the index's
  // own name, and "served" means a copy of it was emitted completely before.
  const admin = indexAdminOf(deps.sink);
  const body = copyIndexBody(index.spec);
  const hash = bodyHash(body);
  let record = await readIndexRecord(deps.store, deps.slot, name);
  record = await deleteRetired(deps, record, options);

  // An unfinished copy is abandoned (and started over) when its version belongs to a slot that
  // no longer exists — the changes made meanwhile are in no queue — or when it was created with
  // mappings or settings the schema no longer has (a fix deployed in the middle of a re-index).
  const abandon = !record.building
    ? undefined
    : position.created
      ? "the replication slot was re-created"
      : record.building.bodyHash !== hash && !options.resumeOnly
        ? "the schema's mappings or settings changed since it was started"
        : undefined;
  if (record.building && abandon) {
    options.onEvent?.({
      step: "abandoned",
      index: name,
      concrete: record.building.concrete,
      reason: abandon,
    });
    // A stream's copy has the index's own name and nothing to delete.
    if (admin) {
      record = retire(record, record.building.concrete, now() + (options.graceMs ?? DEFAULT_GRACE_MS));
    }
    record = { ...record, building: null };
  }

  let started = false;
  if (!record.building) {
    const serving = admin ? (await admin.getAliasTargets(name)).length > 0 : record.serving !== null;
    // A re-index abandoned for a schema change is a re-index still wanted.
    const reindex = options.reindex || abandon !== undefined;
    if (options.resumeOnly || (serving && !reindex && !position.created)) {
      const stale = record.serving && record.serving.bodyHash !== hash;
      return idle(name, serving ? "serving" : "absent", {
        message: !serving
          ? "nothing to resume: no copy of this index was started; run bootstrap"
          : stale
            ? "served, but the schema's mapping or settings changed since the copy: re-index to apply them"
            : "served and in sync; nothing to do (re-index to rebuild it)",
      });
    }
    const version = indexVersion(new Date(now()));
    record = {
      ...record,
      building: {
        bootstrapId: bootstrapIdFor(name, version),
        concrete: admin ? concreteIndexName(name, version) : name,
        bodyHash: hash,
        phase: "creating",
        reindex: serving,
      },
    };
    await writeIndexRecord(deps.store, deps.slot, record, new Date(now()));
    started = true;
  }
  const building = record.building;
  if (!building) throw new Error("unreachable: a copy is being built");

  if (building.phase === "creating") {
    // The record names the index before it exists, so a crash here resumes with the same name;
    // consumers only write to it from `copying` on, when it has its mappings.
    if (admin) {
      await admin.createIndex(building.concrete, body);
      const aliasTargets = await admin.getAliasTargets(name);
      const replaces = aliasTargets.length === 0 && (await admin.indexExists(name)) ? [name] : aliasTargets;
      options.onEvent?.({ step: "index-created", index: name, concrete: building.concrete, replaces });
    }
    building.phase = "copying";
    building.registeredAt = new Date(now()).toISOString();
    await writeIndexRecord(deps.store, deps.slot, record, new Date(now()));
  }

  let progress = await deps.store.readBootstrap(deps.slot, building.bootstrapId);
  if (!progress) {
    const plan = await planRanges(deps.db, index, {
      rangeRows: options.rangeRows ?? DEFAULT_SPLIT_OPTIONS.rangeRows,
      sampleAbove: options.sampleAbove ?? DEFAULT_SPLIT_OPTIONS.sampleAbove,
    });
    options.onEvent?.({
      step: "planned",
      index: name,
      ranges: plan.ranges.length,
      estimatedRows: plan.estimatedRows,
      method: plan.method,
    });
    // The version was read when this call began, before any range of this copy was sent, so
    // before every copy snapshot.
    await deps.store.beginBootstrap(deps.slot, {
      bootstrapId: building.bootstrapId,
      index: name,
      lsn: position.lsn.toString(),
      rangeIds: plan.ranges.map((r) => r.id),
    });
    progress = await deps.store.readBootstrap(deps.slot, building.bootstrapId);
    if (!progress) throw new BootstrapError(`bootstrap ${building.bootstrapId} was not recorded`);
  }

  const registeredAt = Date.parse(building.registeredAt ?? new Date(0).toISOString());
  const wait = registeredAt + (options.targetsCacheMs ?? DEFAULT_TARGETS_CACHE_MS) - now();
  if (wait > 0) {
    options.onEvent?.({ step: "waiting-for-consumers", index: name, ms: wait });
    await ctx.sleep(wait);
  }

  const toSend = rangesToSend(progress, now(), options.resendAfterMs ?? DEFAULT_RESEND_AFTER_MS);
  const sent = await sendRanges(ctx, index, progress, toSend);
  progress = (await deps.store.readBootstrap(deps.slot, building.bootstrapId)) ?? progress;

  let state: IndexState = sent.unsent > 0 ? "sending" : "copying";
  if (progress.done >= progress.total && progress.total > 0) {
    const completion = await completeLocked(deps, building.bootstrapId, options);
    if (completion.state === "serving") state = "serving";
  }
  return {
    index: name,
    state,
    bootstrapId: building.bootstrapId,
    concrete: building.concrete,
    lsn: progress.lsn,
    total: progress.total,
    done: progress.done,
    sent: sent.sent,
    resent: sent.resent,
    unsent: sent.unsent,
    documents: progress.documents,
    started,
    message:
      state === "serving"
        ? admin
          ? `copied and switched: alias "${name}" serves "${building.concrete}"`
          : `copied: every document of "${name}" emitted to the ${deps.sink.engine} sink`
        : state === "sending"
          ? `${sent.unsent} range(s) not sent before the deadline: run bootstrap again to send them`
          : `${progress.total - progress.done} of ${progress.total} range(s) queued for the consumers`,
  };
}

/**
 * The resume rule: `pending` ranges (never sent, or sent by a call that died before recording
 * it) and `failed` ones are sent; a `running` (sent) range is sent again only when it has not
 * been done for `resendAfterMs`, as its message may be lost; `done` ranges never are.
 */
export function rangesToSend(progress: BootstrapProgress, now: number, resendAfterMs: number): string[] {
  const out: string[] = [];
  for (const [id, range] of Object.entries(progress.ranges)) {
    if (range.status === "pending" || range.status === "failed") out.push(id);
    else if (range.status === "running" && now - Date.parse(range.updatedAt) >= resendAfterMs) out.push(id);
  }
  return out.sort();
}

async function sendRanges(
  ctx: Context,
  index: ResolvedIndex,
  progress: BootstrapProgress,
  ids: readonly string[],
): Promise<{ sent: number; resent: number; unsent: number }> {
  const { deps, options, now } = ctx;
  let sent = 0;
  let resent = 0;
  for (let i = 0; i < ids.length; i += SEND_CHUNK) {
    if (options.deadline !== undefined && now() >= options.deadline) {
      return { sent, resent, unsent: ids.length - i };
    }
    const chunk = ids.slice(i, i + SEND_CHUNK);
    const sentAt = new Date(now()).toISOString();
    const messages: RangeMessage[] = chunk.map((id) => {
      const range = decodeRangeId(id);
      return {
        kind: "range",
        index: index.spec.index,
        range: { from: range.from, to: range.to },
        lsn: BigInt(progress.lsn),
        bootstrapId: progress.bootstrapId,
        rangeId: id,
        sentAt,
      };
    });
    await deps.publisher.publish(messages);
    // Recorded after the queue accepted them: a crash in between leaves them pending, and the
    // next call sends them again (a duplicate copy is harmless; a missing one is not).
    for (let j = 0; j < chunk.length; j += MARK_CONCURRENCY) {
      await Promise.all(
        chunk
          .slice(j, j + MARK_CONCURRENCY)
          .map((id) =>
            deps.store.markRange(deps.slot, progress.bootstrapId, id, { status: "running", at: sentAt }),
          ),
      );
    }
    for (const id of chunk) {
      if (progress.ranges[id]?.status === "pending") sent++;
      else resent++;
    }
    options.onEvent?.({ step: "sent", index: index.spec.index, sent: sent + resent, total: ids.length });
  }
  return { sent, resent, unsent: 0 };
}

function retire(record: IndexRecord, concrete: string, deleteAfterMs: number): IndexRecord {
  if (record.retired.some((r) => r.concrete === concrete)) return record;
  return {
    ...record,
    retired: [...record.retired, { concrete, deleteAfter: new Date(deleteAfterMs).toISOString() }],
  };
}

function idle(index: string, state: IndexState, fields: { message: string }): IndexBootstrapSummary {
  return {
    index,
    state,
    total: 0,
    done: 0,
    sent: 0,
    resent: 0,
    unsent: 0,
    documents: 0,
    started: false,
    message: fields.message,
  };
}

/** The copies a summary names, for {@link watchBootstrap}. */
export function copiesOf(summary: BootstrapSummary): { index: string; bootstrapId: string }[] {
  const copies: { index: string; bootstrapId: string }[] = [];
  for (const i of summary.indices)
    if (i.bootstrapId) copies.push({ index: i.index, bootstrapId: i.bootstrapId });
  return copies;
}
