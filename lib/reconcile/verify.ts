import type pg from "pg";
import type { DocumentBuilder, DocumentResult } from "../document";
import { qualifiedName, quoteIdent } from "../schema";
import type { SearchSink } from "../sink";
import { builtSource, canonicalJson } from "./compare";
import { judgeIds } from "./judge";
import { inSnapshot } from "./snapshot";
import type { ReconcileConnection } from "./types";

export interface VerifyDeps {
  connect(): Promise<ReconcileConnection>;
  builder: DocumentBuilder;
  /** A search engine: verify reads the index (`requireIndexAdmin` at the wiring). */
  sink: SearchSink;
  /** Resolves after `ms` (the settle pause before discrepancies are checked again). */
  sleep?: (ms: number) => Promise<void>;
}

export interface VerifyOptions {
  /**
   * `all`: every root row and every document. A number: that many of each, picked at random.
   * `ids`: these document ids only (documents found wrong earlier, looked at again).
   */
  scope: "all" | number | { ids: readonly string[] };
  /** The index or alias to compare. */
  target: string;
  /** Ids per page (`all`). */
  pageSize?: number;
  /**
   * Discrepancies are checked again after this pause, and only those that remain count: a write
   * on its way (in the queue, in a consumer) is not a divergence.
   */
  settleMs?: number;
  /** Examples kept per kind. */
  examples?: number;
}

export interface VerifyFinding {
  count: number;
  examples: string[];
}

/** What a verify found: documents missing, extra (no root row) and different from the database. */
export interface VerifyReport {
  index: string;
  target: string;
  scope: "all" | "sample" | "ids";
  /** Root rows and documents compared. */
  compared: number;
  missing: VerifyFinding;
  extra: VerifyFinding;
  different: VerifyFinding;
  /** missing + extra + different. */
  diverged: number;
}

type Verdict = "missing" | "extra" | "different";

/**
 * Compares an index with the documents the database builds now, both ways: root rows without
 * their document, documents without their root row, and documents whose source differs. Memory is
 * bounded by one page; what looks wrong is checked again after `settleMs` before it counts.
 */
export async function verifyIndex(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyReport> {
  const { sink } = deps;
  const pageSize = options.pageSize ?? 1000;
  const found = new Map<string, Verdict>();
  let compared = 0;
  if (options.scope === "all") {
    let after: string[] | undefined;
    for (;;) {
      const page = await inSnapshot(deps, (c) =>
        deps.builder.rootKeys(c, { ...(after ? { after } : {}), limit: pageSize }),
      );
      compared += page.keys.length;
      for (const [id, verdict] of await judgeKeys(deps, options.target, page.keys)) found.set(id, verdict);
      after = page.keys.at(-1);
      if (!page.more || !after) break;
    }
    let cursor: string | undefined;
    do {
      const page = await sink.scanIds(options.target, cursor, pageSize);
      cursor = page.cursor;
      compared += page.documents.length;
      const built = await inSnapshot(deps, (c) =>
        judgeIds(
          c,
          deps.builder,
          page.documents.map((d) => d.id),
        ),
      );
      for (const d of page.documents) if (!built.has(d.id)) found.set(d.id, "extra");
    } while (cursor !== undefined);
  } else if (typeof options.scope === "object") {
    const ids = [...new Set(options.scope.ids)];
    compared += ids.length;
    if (ids.length > 0)
      for (const [id, verdict] of await recheck(deps, options.target, ids)) found.set(id, verdict);
  } else {
    const n = Math.max(1, Math.floor(options.scope));
    const keys = await inSnapshot(deps, (c) => sampleKeys(c, deps.builder, n));
    compared += keys.length;
    for (const [id, verdict] of await judgeKeys(deps, options.target, keys)) found.set(id, verdict);
    const docs = await sink.sampleDocuments(options.target, n);
    compared += docs.length;
    for (const [id, verdict] of await judgeStored(deps, docs)) found.set(id, verdict);
  }
  // Look again at what looked wrong: only what is still wrong after the pause counts.
  if (found.size > 0 && (options.settleMs ?? 0) > 0) {
    await (deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(options.settleMs ?? 0);
    const again = await recheck(deps, options.target, [...found.keys()]);
    for (const id of [...found.keys()]) {
      const verdict = again.get(id);
      if (verdict) found.set(id, verdict);
      else found.delete(id);
    }
  }
  return report(deps.builder.index.spec.index, options, compared, found, options.examples ?? 5);
}

function report(
  index: string,
  options: VerifyOptions,
  compared: number,
  found: Map<string, Verdict>,
  examples: number,
): VerifyReport {
  const finding = (kind: Verdict): VerifyFinding => {
    const ids = [...found].filter(([, v]) => v === kind).map(([id]) => id);
    return { count: ids.length, examples: ids.slice(0, examples) };
  };
  const missing = finding("missing");
  const extra = finding("extra");
  const different = finding("different");
  return {
    index,
    target: options.target,
    scope: options.scope === "all" ? "all" : typeof options.scope === "object" ? "ids" : "sample",
    compared,
    missing,
    extra,
    different,
    diverged: missing.count + extra.count + different.count,
  };
}

/** Builds the documents of `keys` and compares each with the index. */
async function judgeKeys(
  deps: VerifyDeps,
  target: string,
  keys: readonly string[][],
): Promise<Map<string, Verdict>> {
  const out = new Map<string, Verdict>();
  if (keys.length === 0) return out;
  const built = await inSnapshot(deps, (c) => deps.builder.build(c, keys));
  const docs = built.filter((d): d is DocumentResult & { action: "index" } => d.action === "index");
  const stored = await deps.sink.getDocuments(
    target,
    docs.map((d) => (d.routing === undefined ? d._id : { id: d._id, routing: d.routing })),
  );
  docs.forEach((doc, i) => {
    const have = stored[i];
    if (!have) out.set(doc._id, "missing");
    else if (canonicalJson(have.source) !== builtSource(doc)) out.set(doc._id, "different");
  });
  return out;
}

/** Compares stored documents with what the database builds for their ids. */
async function judgeStored(
  deps: VerifyDeps,
  docs: readonly { id: string; source: Record<string, unknown> }[],
): Promise<Map<string, Verdict>> {
  const out = new Map<string, Verdict>();
  const built = await inSnapshot(deps, (c) =>
    judgeIds(
      c,
      deps.builder,
      docs.map((d) => d.id),
    ),
  );
  for (const doc of docs) {
    const want = built.get(doc.id);
    if (want?.action !== "index") out.set(doc.id, "extra");
    else if (canonicalJson(doc.source) !== builtSource(want)) out.set(doc.id, "different");
  }
  return out;
}

/** The verdicts on `ids` now (both sides read again). */
async function recheck(
  deps: VerifyDeps,
  target: string,
  ids: readonly string[],
): Promise<Map<string, Verdict>> {
  const out = new Map<string, Verdict>();
  const built = await inSnapshot(deps, (c) => judgeIds(c, deps.builder, ids));
  const stored = await deps.sink.locate(target, ids);
  const present = new Set(stored.map((s) => s.id));
  const sources = await deps.sink.getDocuments(
    target,
    stored.map((s) => (s.routing === undefined ? s.id : { id: s.id, routing: s.routing })),
  );
  const sourceOf = new Map(sources.flatMap((d) => (d ? [[d.id, d.source] as const] : [])));
  for (const id of ids) {
    const want = built.get(id);
    const have = sourceOf.get(id);
    if (want?.action === "index") {
      if (!present.has(id) || !have) out.set(id, "missing");
      else if (canonicalJson(have) !== builtSource(want)) out.set(id, "different");
    } else if (present.has(id)) {
      out.set(id, "extra");
    }
  }
  return out;
}

/**
 * About `n` root keys picked at random. Tables are sampled by block (`TABLESAMPLE SYSTEM`, sized
 * from the planner's row estimate) so a large table is not read whole; views are read in random
 * order, which reads them whole.
 */
async function sampleKeys(client: pg.ClientBase, builder: DocumentBuilder, n: number): Promise<string[][]> {
  const table = builder.index.root.table;
  const cols = table.primaryKey.map((c) => `${quoteIdent(c)}::text`).join(", ");
  const sampled = table.kind === "table" || table.kind === "partitioned_table";
  let percent = 100;
  if (sampled) {
    const { rows } = await client.query<{ n: string | null }>(
      `SELECT sum(c.reltuples)::text AS n FROM pg_catalog.pg_class c WHERE c.oid = $1::regclass
          OR c.oid IN (SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf)`,
      [qualifiedName(table)],
    );
    const estimate = Number(rows[0]?.n ?? 0);
    // Four times the rows wanted, as blocks hold rows unevenly; at least 0.01 %.
    if (estimate > 0) percent = Math.min(100, Math.max(0.01, (400 * n) / estimate));
  }
  const from =
    sampled && percent < 100
      ? `${qualifiedName(table)} TABLESAMPLE SYSTEM (${percent})`
      : qualifiedName(table);
  const { rows } = await client.query<{ key: string[] }>(
    `SELECT ARRAY[${cols}] AS key FROM ${from} ORDER BY random() LIMIT $1`,
    [n],
  );
  return rows.map((r) => r.key);
}
