import pg from "pg";
import { type DocumentBuilder, stringifyJson } from "../../lib/document";
import type { DocumentSink } from "../../lib/sink";

export interface Difference {
  id: string;
  kind: "missing" | "extra" | "different";
  /** Top-level fields whose values differ (for `different`). */
  fields?: string[];
  expected?: unknown;
  actual?: unknown;
}

export interface Comparison {
  /** Documents the database builds now. */
  expected: number;
  /** Documents in the index. */
  indexed: number;
  differences: Difference[];
}

/**
 * Compares every document in `index` with the document built from the database now (what
 * `slotsync render` prints), in both directions: none missing, none extra, all sources equal.
 */
export async function compareIndexWithDatabase(options: {
  pgUrl: string;
  builder: DocumentBuilder;
  sink: DocumentSink;
  index: string;
}): Promise<Comparison> {
  const expected = new Map<string, string>();
  const client = new pg.Client({ connectionString: options.pgUrl, options: "-c TimeZone=UTC -c jit=off" });
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    let after: string[] | undefined;
    for (;;) {
      const page = await options.builder.buildRange(client, { ...(after ? { after } : {}), limit: 2000 });
      for (const doc of page.documents) {
        if (doc.action === "index") expected.set(doc._id, canonical(JSON.parse(stringifyJson(doc._source))));
      }
      after = page.lastKey;
      if (!page.more || !after) break;
    }
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
  await options.sink.refresh(options.index);
  const differences: Difference[] = [];
  const seen = new Set<string>();
  let indexed = 0;
  for await (const stored of options.sink.scan(options.index)) {
    indexed++;
    seen.add(stored.id);
    const want = expected.get(stored.id);
    const got = canonical(stored.source);
    if (want === undefined) differences.push({ id: stored.id, kind: "extra", actual: stored.source });
    else if (want !== got) {
      const a = JSON.parse(want) as Record<string, unknown>;
      const fields = [...new Set([...Object.keys(a), ...Object.keys(stored.source)])].filter(
        (k) => canonical(a[k]) !== canonical(stored.source[k]),
      );
      differences.push({ id: stored.id, kind: "different", fields, expected: a, actual: stored.source });
    }
  }
  for (const id of expected.keys()) if (!seen.has(id)) differences.push({ id, kind: "missing" });
  return { expected: expected.size, indexed, differences };
}

/** JSON with object keys sorted, so field order does not count as a difference. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : v,
  );
}
