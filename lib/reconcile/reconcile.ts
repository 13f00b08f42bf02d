import { documentId } from "../document";
import { DEADLINE_ERROR, type SearchSink, SinkError, type SinkOperation } from "../sink";
import { ReconcileError } from "./errors";
import { judgeIds } from "./judge";
import { documentOperation } from "./operation";
import { inSnapshot } from "./snapshot";
import type {
  ReconcileDeps,
  ReconcileJob,
  ReconcileOptions,
  ReconcileProgress,
  ReconcileSliceResult,
} from "./types";

/** Examples kept per kind in the progress record. */
const MAX_EXAMPLES = 5;
/** Least time a page is assumed to take before one has been measured. */
const FIRST_PAGE_MS = 2000;

/** A job's progress before its first page. */
export function freshProgress(): ReconcileProgress {
  return {
    v: 1,
    phase: "index",
    counts: { documents: 0, rows: 0, extra: 0, missing: 0, rebuilt: 0, rejected: 0, pages: 0, slices: 0 },
    examples: { extra: [], missing: [], rejected: [] },
    updatedAt: new Date().toISOString(),
  };
}

/**
 * Works on a reconcile until it is done or the deadline is near, whichever comes first, and keeps
 * its progress after every page so the next slice (another process) goes on from there.
 *
 * Phase `index` pages through the index's ids (a resumable scroll) and asks the database, in one
 * snapshot per page, which still have a root row: the others are deleted at `job.version`; in
 * `rebuild` mode the rest is written again. Phase `database` pages through the root keys in key
 * order and looks each page's ids up in the index: the documents missing are built and written.
 * Two passes rather than one sorted merge: the engines cannot sort by `_id`, and no text order of
 * `_id` agrees with the key order of every key type. Memory is one page; each page is bounded.
 */
export async function reconcileSlice(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
): Promise<ReconcileSliceResult> {
  const now = deps.now ?? Date.now;
  const progress = (await deps.store?.read(job.id)) ?? freshProgress();
  progress.counts.slices++;
  let slowest = FIRST_PAGE_MS;
  let pages = 0;
  while (progress.phase !== "done") {
    // At least one page per slice, so a job always moves on.
    const enough =
      (options.deadline !== undefined && now() + 2 * slowest > options.deadline) ||
      (options.maxPages !== undefined && pages >= options.maxPages);
    if (pages > 0 && enough) {
      await save(deps, job, progress);
      return { done: false, progress };
    }
    const started = now();
    const end =
      progress.phase === "index"
        ? await indexPage(job, deps, options, progress)
        : await databasePage(job, deps, options, progress);
    if (end === "cut") {
      // The deadline cut the page's writes short: the page is kept and done again by the next
      // slice. A slice that did no page at all fails instead, so that a job that can never do
      // one page in time ends in the dead-letter queue rather than going round for ever.
      await save(deps, job, progress);
      if (pages === 0) {
        throw new ReconcileError(
          `writing to ${job.target} was cut short by the deadline before one page was done`,
          {
            retryable: true,
            where: `index ${job.index}`,
            fix: "nothing: the page is done again on the next delivery; if this repeats, give the consumer more time",
          },
        );
      }
      return { done: false, progress };
    }
    pages++;
    progress.counts.pages++;
    slowest = Math.max(pages === 1 ? 0 : slowest, now() - started);
    await save(deps, job, progress);
  }
  return { done: true, progress };
}

/** How a page ended: its work accepted (`done`), or cut short by the deadline and kept (`cut`). */
type PageEnd = "done" | "cut";

async function save(deps: ReconcileDeps, job: ReconcileJob, progress: ReconcileProgress): Promise<void> {
  progress.updatedAt = new Date((deps.now ?? Date.now)()).toISOString();
  await deps.store?.write(job.id, progress);
}

async function indexPage(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
  progress: ReconcileProgress,
): Promise<PageEnd> {
  if (progress.pending === undefined) {
    // A scroll sees the index as of its last refresh: documents written just before the repair
    // (a change committed before the truncate) would never be seen, and stay.
    if (progress.cursor === undefined) await deps.sink.refresh(job.target);
    let page: Awaited<ReturnType<SearchSink["scanIds"]>>;
    try {
      page = await deps.sink.scanIds(job.target, progress.cursor, options.pageSize);
    } catch (error) {
      if (progress.cursor !== undefined && scrollExpired(error)) {
        // The engine forgot the scroll (a follow-up came later than its keep-alive): walk the
        // ids again from the start. Every step is idempotent; only time is lost.
        delete progress.cursor;
        return "done";
      }
      throw error;
    }
    progress.counts.documents += page.documents.length;
    progress.pending = {
      documents: page.documents.map((d) =>
        d.routing === undefined ? { id: d.id } : { id: d.id, routing: d.routing },
      ),
      last: page.cursor === undefined,
    };
    if (page.cursor === undefined) delete progress.cursor;
    else progress.cursor = page.cursor;
    // The engine's scroll has moved past this page: keep the page before working on it, so that
    // a failure, the deadline or the end of the process before its deletes were accepted has it
    // done again instead of skipped (its documents would stay in the index for good).
    await save(deps, job, progress);
  }
  const { documents, last } = progress.pending;
  const judged = await inSnapshot(deps, (client) =>
    judgeIds(
      client,
      deps.builder,
      documents.map((d) => d.id),
    ),
  );
  const ops: SinkOperation[] = [];
  const extra: string[] = [];
  let rebuilt = 0;
  for (const doc of documents) {
    const built = judged.get(doc.id);
    if (!built) {
      extra.push(doc.id);
      ops.push({
        kind: "delete",
        index: job.target,
        id: doc.id,
        version: job.version,
        ...(doc.routing === undefined ? {} : { routing: doc.routing }),
      });
    } else if (job.mode === "rebuild") {
      rebuilt++;
      ops.push(documentOperation(built, job.version, job.target, []));
    }
  }
  if ((await write(job, deps, options, progress, ops)) === "cut") return "cut";
  // Counted once the page's work was accepted: a page done again is not counted twice.
  progress.counts.extra += extra.length;
  for (const id of extra) note(progress.examples.extra, id);
  progress.counts.rebuilt += rebuilt;
  delete progress.pending;
  if (last) {
    progress.phase = "database";
    delete progress.after;
  }
  return "done";
}

async function databasePage(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
  progress: ReconcileProgress,
): Promise<PageEnd> {
  const { builder, sink } = deps;
  const table = builder.index.root.table;
  const built = await inSnapshot(deps, async (client) => {
    const page = await builder.rootKeys(client, {
      ...(progress.after ? { after: progress.after } : {}),
      limit: options.pageSize,
    });
    const ids = page.keys.map((k) => documentId(table, k));
    const present = new Set((await sink.locate(job.target, ids)).map((l) => l.id));
    const missing = page.keys.filter((_, i) => !present.has(ids[i] as string));
    const documents = missing.length > 0 ? await builder.build(client, missing) : [];
    return { page, documents };
  });
  const ops: SinkOperation[] = [];
  const missing: string[] = [];
  for (const doc of built.documents) {
    // A root whose document a plugin drops has none on purpose.
    if (doc.action !== "index") continue;
    missing.push(doc._id);
    ops.push(documentOperation(doc, job.version, job.target, []));
  }
  // `after` moves only once the page's writes were accepted: a page cut short is read again.
  if ((await write(job, deps, options, progress, ops)) === "cut") return "cut";
  progress.counts.rows += built.page.keys.length;
  progress.counts.missing += missing.length;
  for (const id of missing) note(progress.examples.missing, id);
  const last = built.page.keys.at(-1);
  if (!built.page.more || !last) {
    progress.phase = "done";
    delete progress.after;
  } else {
    progress.after = last;
  }
  return "done";
}

/**
 * Writes a page's operations. `cut` when the deadline left no time for some of them (nothing else
 * failed): the page is done again later. Any other retryable failure throws.
 */
async function write(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
  progress: ReconcileProgress,
  ops: SinkOperation[],
): Promise<PageEnd> {
  if (ops.length === 0 || options.dryRun) return "done";
  const { outcomes } = await deps.sink.write(
    ops,
    options.deadline === undefined ? {} : { deadline: options.deadline },
  );
  const retryable = outcomes.filter((o) => o.status === "retryable");
  if (retryable.length > 0 && retryable.every((o) => o.errorType === DEADLINE_ERROR)) return "cut";
  const retry = retryable[0];
  if (retry) {
    throw new ReconcileError(
      `writing to ${job.target} failed for now: ${retry.reason ?? "the engine asked to retry"}`,
      {
        retryable: true,
        where: `index ${job.index}`,
        fix: "nothing: the page is done again on the next delivery",
      },
    );
  }
  for (const o of outcomes) {
    if (o.status !== "rejected") continue;
    progress.counts.rejected++;
    note(progress.examples.rejected, `${o.op.id}: ${o.reason ?? "rejected"}`);
  }
  return "done";
}

function scrollExpired(error: unknown): boolean {
  return (
    error instanceof SinkError &&
    (error.errorType === "search_context_missing_exception" || error.httpStatus === 404)
  );
}

function note(list: string[], example: string): void {
  if (list.length < MAX_EXAMPLES) list.push(example);
}
