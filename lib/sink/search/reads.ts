import { SinkError } from "../errors";
import { parseWithExactIntegers, toBigIntVersion } from "../exact-json";
import type { DocumentLocation, DocumentRef, StoredDocument } from "../types";
import { type AdminContext, adminRequest, unexpected } from "./admin";
import { describeError, formatError } from "./classify";
import { type EngineResponse, pathName } from "./transport";

/** Ids per `_mget` request: keeps responses (and their memory) bounded. */
const MGET_BATCH = 1000;
/** How long the engine keeps a scroll context between two pages. */
const SCROLL_KEEP_ALIVE = "2m";

interface Hit {
  _index?: string;
  _id?: string;
  _version?: unknown;
  _routing?: string;
  _source?: Record<string, unknown>;
  found?: boolean;
  error?: unknown;
}

/**
 * Fetches documents by id with `_mget`, in the order asked, `undefined` where there is none.
 * Versions come back exact (see `parseWithExactIntegers`): a consistency check can compare them
 * with the LSNs it expects.
 */
export async function getDocuments(
  ctx: AdminContext,
  index: string,
  ids: readonly (string | DocumentRef)[],
): Promise<(StoredDocument | undefined)[]> {
  const path = pathName(index);
  const refs = ids.map((ref) => (typeof ref === "string" ? { id: ref } : ref));
  const found: (StoredDocument | undefined)[] = [];
  for (let start = 0; start < refs.length; start += MGET_BATCH) {
    const batch = refs.slice(start, start + MGET_BATCH);
    const docs = batch.map((ref) => {
      const doc: Record<string, string> = { _id: ref.id };
      if (ref.routing !== undefined) doc.routing = ref.routing;
      return doc;
    });
    const what = `get ${batch.length} documents from "${index}"`;
    const response = await adminRequest(ctx, what, {
      method: "POST",
      // Index-scoped: OpenSearch Serverless only offers `<index>/_mget`.
      path: `/${path}/_mget`,
      body: { docs },
      raw: true,
    });
    // `{"docs":[{"_version":...}]}`: the version members sit at depth 3.
    const body = parseRaw(ctx, what, response, 3) as { docs?: Hit[] };
    const hits = body.docs ?? [];
    if (hits.length !== batch.length) {
      throw new SinkError(`${what}: the engine returned ${hits.length} results`, { retryable: true });
    }
    for (const hit of hits) {
      if (hit.error !== undefined) {
        const error = describeError(hit.error);
        throw new SinkError(`${what}: ${formatError(error)}`, {
          errorType: error.type,
          fix:
            error.type === "index_not_found_exception"
              ? "run `slotsync bootstrap` to create the index, or correct the index name"
              : "see the engine's reason",
        });
      }
      found.push(hit.found ? toStored(hit, index) : undefined);
    }
  }
  return found;
}

/**
 * Where the documents with these ids are, whatever their routing: an `ids` query searches every
 * shard, and each hit names its index and `_routing`. An index with custom routing may hold
 * copies of one id on several shards (written under different routing values); all are listed.
 * Search sees what the last refresh made visible: refresh first to see writes of the last second.
 */
export async function locate(
  ctx: AdminContext,
  index: string,
  ids: readonly string[],
): Promise<DocumentLocation[]> {
  const found: DocumentLocation[] = [];
  for (let start = 0; start < ids.length; start += MGET_BATCH) {
    const batch = ids.slice(start, start + MGET_BATCH);
    const what = `locate ${batch.length} documents in "${index}"`;
    const response = await adminRequest(ctx, what, {
      method: "POST",
      path: `/${pathName(index)}/_search`,
      // Room for a few copies per id; more would mean routing changed over and over unnoticed.
      body: {
        size: Math.min(10_000, batch.length * 4),
        _source: false,
        version: true,
        query: { ids: { values: batch } },
      },
      raw: true,
    });
    const page = parseRaw(ctx, what, response, 4) as { hits?: { hits?: Hit[] } };
    for (const hit of page.hits?.hits ?? []) {
      const where: DocumentLocation = {
        index: hit._index ?? index,
        id: hit._id ?? "",
        version: toBigIntVersion(hit._version),
      };
      if (hit._routing !== undefined) where.routing = hit._routing;
      found.push(where);
    }
  }
  return found;
}

/**
 * Every document of an index or alias, page by page with a scroll sorted by `_doc` (the cheapest
 * order), with exact versions. The scroll is cleared when the iteration ends or is abandoned.
 * Scroll rather than point-in-time: both engines support it with the same API.
 */
export async function* scan(
  ctx: AdminContext,
  index: string,
  options: { batchSize?: number } = {},
): AsyncGenerator<StoredDocument> {
  const size = options.batchSize ?? 1000;
  const what = `scan "${index}"`;
  let response = await adminRequest(ctx, what, {
    method: "POST",
    path: `/${pathName(index)}/_search`,
    querystring: { scroll: SCROLL_KEEP_ALIVE },
    body: { size, sort: ["_doc"], version: true, query: { match_all: {} } },
    raw: true,
  });
  let scrollId: string | undefined;
  try {
    for (;;) {
      // `{"hits":{"hits":[{"_version":...}]}}`: the version members sit at depth 4.
      const page = parseRaw(ctx, what, response, 4) as { _scroll_id?: string; hits?: { hits?: Hit[] } };
      scrollId = page._scroll_id ?? scrollId;
      const hits = page.hits?.hits ?? [];
      for (const hit of hits) yield toStored(hit, index);
      if (hits.length < size || scrollId === undefined) return;
      response = await adminRequest(ctx, what, {
        method: "POST",
        path: "/_search/scroll",
        body: { scroll: SCROLL_KEEP_ALIVE, scroll_id: scrollId },
        raw: true,
      });
    }
  } finally {
    if (scrollId !== undefined) await clearScroll(ctx, scrollId);
  }
}

function parseRaw(ctx: AdminContext, what: string, response: EngineResponse, depth: number): unknown {
  const text = response.raw ?? "";
  if (response.status !== 200) {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (a proxy's page): describeError takes the text as it is
    }
    throw unexpected(ctx, what, { status: response.status, body });
  }
  try {
    return parseWithExactIntegers(text, "_version", depth);
  } catch (err) {
    throw new SinkError(`${what}: the engine's answer is not JSON`, { cause: err, retryable: true });
  }
}

function toStored(hit: Hit, index: string): StoredDocument {
  const doc: StoredDocument = {
    index: hit._index ?? index,
    id: hit._id ?? "",
    version: toBigIntVersion(hit._version),
    source: hit._source ?? {},
  };
  if (hit._routing !== undefined) doc.routing = hit._routing;
  return doc;
}

/** One page of {@link scanIds}: documents without their source, and where the next page starts. */
export interface IdPage {
  documents: { id: string; version: bigint; routing?: string }[];
  /** Pass it back for the next page; undefined after the last page. */
  cursor: string | undefined;
}

/** How long a resumable id scan stays open between two pages (a follow-up Lambda may take it on). */
const RESUMABLE_KEEP_ALIVE = "15m";

/**
 * The ids of an index, one page per call, resumable across processes: the cursor is the scroll
 * id, which the engine keeps for {@link RESUMABLE_KEEP_ALIVE} after each page. A cursor that
 * expired fails with a `SinkError` whose `errorType` is `search_context_missing_exception`; start
 * again without a cursor then. The scroll is cleared after its last page.
 */
export async function scanIds(
  ctx: AdminContext,
  index: string,
  cursor: string | undefined,
  size: number,
): Promise<IdPage> {
  const what = `scan the ids of "${index}"`;
  const response =
    cursor === undefined
      ? await adminRequest(ctx, what, {
          method: "POST",
          path: `/${pathName(index)}/_search`,
          querystring: { scroll: RESUMABLE_KEEP_ALIVE },
          body: { size, sort: ["_doc"], version: true, _source: false, query: { match_all: {} } },
          raw: true,
        })
      : await adminRequest(ctx, what, {
          method: "POST",
          path: "/_search/scroll",
          body: { scroll: RESUMABLE_KEEP_ALIVE, scroll_id: cursor },
          raw: true,
        });
  const page = parseRaw(ctx, what, response, 4) as { _scroll_id?: string; hits?: { hits?: Hit[] } };
  const hits = page.hits?.hits ?? [];
  const documents = hits.map((hit) => {
    const doc: IdPage["documents"][number] = { id: hit._id ?? "", version: toBigIntVersion(hit._version) };
    if (hit._routing !== undefined) doc.routing = hit._routing;
    return doc;
  });
  const scrollId = page._scroll_id;
  if (hits.length < size || scrollId === undefined) {
    if (scrollId !== undefined) await clearScroll(ctx, scrollId);
    return { documents, cursor: undefined };
  }
  return { documents, cursor: scrollId };
}

/** Clears a scroll left open by {@link scanIds} (best effort: it expires by itself anyway). */
export async function clearScroll(ctx: AdminContext, cursor: string): Promise<void> {
  await ctx.transport
    .request({
      method: "DELETE",
      path: "/_search/scroll",
      body: { scroll_id: cursor },
      timeoutMs: ctx.tuning.requestTimeoutMs,
    })
    .catch(() => undefined);
}

/**
 * Up to `size` documents of an index picked at random (a `random_score` query), with their
 * sources: the index side of a sampled verify.
 */
export async function sampleDocuments(
  ctx: AdminContext,
  index: string,
  size: number,
): Promise<StoredDocument[]> {
  const what = `sample ${size} documents of "${index}"`;
  const response = await adminRequest(ctx, what, {
    method: "POST",
    path: `/${pathName(index)}/_search`,
    body: {
      size,
      version: true,
      query: { function_score: { query: { match_all: {} }, random_score: {} } },
    },
    raw: true,
  });
  const page = parseRaw(ctx, what, response, 4) as { hits?: { hits?: Hit[] } };
  return (page.hits?.hits ?? []).map((hit) => toStored(hit, index));
}
