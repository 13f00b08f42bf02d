import { type DocumentBuilder, stringifyJson } from "../../lib/document";
import { canonicalJson as canonical } from "../../lib/reconcile";
import type { Queryable } from "../../lib/schema";
import type { SearchSink } from "../../lib/sink";

/** One document whose stored source is not what the database builds now. */
export interface DocumentDifference {
  id: string;
  expected: unknown;
  actual: unknown;
}

/** The result of comparing an index with the database, both directions. */
export interface ConsistencyReport {
  /** Documents the database builds now (the ground truth, as `slotsync render` prints it). */
  compared: number;
  /** Stored documents. */
  stored: number;
  /** Ids the database has and the index lacks. */
  missing: string[];
  /** Ids the index has and the database does not. */
  extra: string[];
  /** Ids in both whose sources differ (the first `maxDifferences` of them, with both sides). */
  different: DocumentDifference[];
  /** How many differ in all. */
  differentCount: number;
}

export interface CompareOptions {
  sink: SearchSink;
  /** The index or alias to read. */
  index: string;
  builder: DocumentBuilder;
  /** A connection to the database; the comparison reads it in one REPEATABLE READ snapshot. */
  client: Queryable;
  /** Root rows per document query (default 2000). */
  pageSize?: number;
  /** Differences kept with both sides (default 20); `differentCount` counts them all. */
  maxDifferences?: number;
}

/**
 * Invariant 2 as a check: every document in the index equals the document built from the
 * database now, and no document exists for a root row that does not. Builds every document with
 * the same DocumentBuilder the consumers use (the `render` ground truth), scans the whole index,
 * and compares sources as JSON values (key order ignored). Call it after writes stopped and the
 * queue drained; it refreshes the index first.
 */
export async function compareIndexWithDatabase(options: CompareOptions): Promise<ConsistencyReport> {
  await options.sink.refresh(options.index);
  const expected = new Map<string, string>();
  const pageSize = options.pageSize ?? 2000;
  await options.client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    let after: string[] | undefined;
    for (;;) {
      const page = await options.builder.buildRange(options.client, {
        ...(after ? { after } : {}),
        limit: pageSize,
      });
      for (const doc of page.documents) {
        if (doc.action === "index") expected.set(doc._id, canonical(JSON.parse(stringifyJson(doc._source))));
      }
      after = page.lastKey;
      if (!page.more || !after) break;
    }
  } finally {
    await options.client.query("COMMIT");
  }

  const report: ConsistencyReport = {
    compared: expected.size,
    stored: 0,
    missing: [],
    extra: [],
    different: [],
    differentCount: 0,
  };
  const seen = new Set<string>();
  const max = options.maxDifferences ?? 20;
  for await (const stored of options.sink.scan(options.index)) {
    report.stored++;
    seen.add(stored.id);
    const want = expected.get(stored.id);
    if (want === undefined) {
      report.extra.push(stored.id);
      continue;
    }
    const got = canonical(stored.source);
    if (got === want) continue;
    report.differentCount++;
    if (report.different.length < max) {
      report.different.push({ id: stored.id, expected: JSON.parse(want), actual: JSON.parse(got) });
    }
  }
  for (const id of expected.keys()) if (!seen.has(id)) report.missing.push(id);
  report.missing.sort();
  report.extra.sort();
  return report;
}
