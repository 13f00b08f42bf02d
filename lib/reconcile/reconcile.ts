import { documentId } from "../document";
import { type SearchSink, SinkError, type SinkOperation } from "../sink";
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
    if (pages > 0 && options.deadline !== undefined && now() + 2 * slowest > options.deadline) {
      await save(deps, job, progress);
      return { done: false, progress };
    }
    const started = now();
    if (progress.phase === "index") await indexPage(job, deps, options, progress);
    else await databasePage(job, deps, options, progress);
    pages++;
    progress.counts.pages++;
    slowest = Math.max(pages === 1 ? 0 : slowest, now() - started);
    await save(deps, job, progress);
  }
  return { done: true, progress };
}

async function save(deps: ReconcileDeps, job: ReconcileJob, progress: ReconcileProgress): Promise<void> {
  progress.updatedAt = new Date((deps.now ?? Date.now)()).toISOString();
  await deps.store?.write(job.id, progress);
}

async function indexPage(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
  progress: ReconcileProgress,
): Promise<void> {
  let page: Awaited<ReturnType<SearchSink["scanIds"]>>;
  try {
    page = await deps.sink.scanIds(job.target, progress.cursor, options.pageSize);
  } catch (error) {
    if (progress.cursor !== undefined && scrollExpired(error)) {
      // The engine forgot the scroll (a follow-up came later than its keep-alive): walk the
      // ids again from the start. Every step is idempotent; only time is lost.
      delete progress.cursor;
      return;
    }
    throw error;
  }
  progress.counts.documents += page.documents.length;
  const judged = await inSnapshot(deps, (client) =>
    judgeIds(
      client,
      deps.builder,
      page.documents.map((d) => d.id),
    ),
  );
  const ops: SinkOperation[] = [];
  for (const doc of page.documents) {
    const built = judged.get(doc.id);
    if (!built) {
      progress.counts.extra++;
      note(progress.examples.extra, doc.id);
      ops.push({
        kind: "delete",
        index: job.target,
        id: doc.id,
        version: job.version,
        ...(doc.routing === undefined ? {} : { routing: doc.routing }),
      });
    } else if (job.mode === "rebuild") {
      progress.counts.rebuilt++;
      ops.push(documentOperation(built, job.version, job.target, []));
    }
  }
  await write(job, deps, options, progress, ops);
  if (page.cursor === undefined) {
    progress.phase = "database";
    delete progress.cursor;
    delete progress.after;
  } else {
    progress.cursor = page.cursor;
  }
}

async function databasePage(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
  progress: ReconcileProgress,
): Promise<void> {
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
  progress.counts.rows += built.page.keys.length;
  const ops: SinkOperation[] = [];
  for (const doc of built.documents) {
    // A root whose document a plugin drops has none on purpose.
    if (doc.action !== "index") continue;
    progress.counts.missing++;
    note(progress.examples.missing, doc._id);
    ops.push(documentOperation(doc, job.version, job.target, []));
  }
  await write(job, deps, options, progress, ops);
  const last = built.page.keys.at(-1);
  if (!built.page.more || !last) {
    progress.phase = "done";
    delete progress.after;
  } else {
    progress.after = last;
  }
}

async function write(
  job: ReconcileJob,
  deps: ReconcileDeps,
  options: ReconcileOptions,
  progress: ReconcileProgress,
  ops: SinkOperation[],
): Promise<void> {
  if (ops.length === 0 || options.dryRun) return;
  const { outcomes } = await deps.sink.write(
    ops,
    options.deadline === undefined ? {} : { deadline: options.deadline },
  );
  const retry = outcomes.find((o) => o.status === "retryable");
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
