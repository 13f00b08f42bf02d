import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSink,
  type SearchSink,
  type SinkConfig,
  SinkError,
  type SinkOperation,
  TOMBSTONE_INDEX_SETTINGS,
} from "../../lib/sink";
import { startProxy } from "../support/http-proxy";
import { getServices } from "../support/services";

// The sink against the real engines: versioning semantics, mapping errors, routing, reads, aliases.

const SUFFIX = randomBytes(4).toString("hex");

const ENGINES: { name: "elasticsearch" | "opensearch"; config: () => SinkConfig }[] = [
  {
    name: "elasticsearch",
    config: () => {
      const { url, username, password } = getServices().elasticsearch;
      return { engine: "elasticsearch", node: url, auth: { type: "basic", username, password } };
    },
  },
  { name: "opensearch", config: () => ({ engine: "opensearch", node: getServices().opensearch.url }) },
];

const MAPPINGS = { properties: { n: { type: "integer" }, title: { type: "keyword" } } };
const SETTINGS = { ...TOMBSTONE_INDEX_SETTINGS, number_of_shards: 2, number_of_replicas: 0 };

describe.each(ENGINES)("$name sink", ({ name, config }) => {
  const prefix = `slotsync-sink-${name.slice(0, 2)}-${SUFFIX}`;
  const index = `${prefix}-main`;
  const created: string[] = [];
  let sink: SearchSink;

  const put = (
    id: string,
    version: bigint,
    source: Record<string, unknown>,
    extra: Partial<SinkOperation> = {},
  ) => ({ kind: "index", index, id, version, source, ...extra }) as SinkOperation;
  const del = (id: string, version: bigint): SinkOperation => ({ kind: "delete", index, id, version });
  const statuses = async (ops: SinkOperation[]) => (await sink.write(ops)).outcomes.map((o) => o.status);
  const one = async (id: string) => (await sink.getDocuments(index, [id]))[0];
  const newIndex = async (suffix: string) => {
    const name = `${prefix}-${suffix}`;
    created.push(name);
    await sink.createIndex(name, { settings: SETTINGS, mappings: MAPPINGS });
    return name;
  };

  beforeAll(async () => {
    sink = createSink(config());
    created.push(index);
    expect(await sink.createIndex(index, { settings: SETTINGS, mappings: MAPPINGS })).toEqual({
      created: true,
    });
  });

  afterAll(async () => {
    if (!sink) return;
    for (const name of created) await sink.deleteIndex(name).catch(() => undefined);
    await sink.close();
  });

  it("identifies the engine", async () => {
    const info = await sink.info();
    expect(info.engine).toBe(name);
    expect(info.version).toMatch(name === "elasticsearch" ? /^8\./ : /^2\./);
    expect(await sink.createIndex(index)).toEqual({ created: false });
  });

  it("indexes, updates and deletes with versions", async () => {
    expect(await statuses([put("life", 10n, { title: "v10" })])).toEqual(["ok"]);
    expect(await statuses([put("life", 20n, { title: "v20" })])).toEqual(["ok"]);
    expect(await one("life")).toMatchObject({ version: 20n, source: { title: "v20" } });
    const { outcomes, stats } = await sink.write([del("life", 30n)]);
    expect(outcomes[0]).toMatchObject({ status: "ok", httpStatus: 200 });
    expect(stats).toMatchObject({ deleted: 1, requests: 1 });
    expect(await one("life")).toBeUndefined();
  });

  it("answers a lower version with stale and keeps the newer document", async () => {
    await sink.write([put("race", 100n, { title: "new" })]);
    const { outcomes, stats } = await sink.write([put("race", 99n, { title: "old" }), del("race", 50n)]);
    expect(outcomes.map((o) => [o.status, o.httpStatus, o.errorType])).toEqual([
      ["stale", 409, "version_conflict_engine_exception"],
      ["stale", 409, "version_conflict_engine_exception"],
    ]);
    expect(stats.stale).toBe(2);
    expect(await one("race")).toMatchObject({ version: 100n, source: { title: "new" } });
  });

  it("keeps a delete's tombstone: an older index of a deleted document is stale", async () => {
    await sink.write([put("tomb", 5n, { title: "alive" })]);
    expect(await statuses([del("tomb", 60n)])).toEqual(["ok"]);
    expect(await statuses([put("tomb", 59n, { title: "zombie" })])).toEqual(["stale"]);
    expect(await one("tomb")).toBeUndefined();
    // A delete of a document that never existed still leaves a tombstone (404 not_found is ok).
    const never = await sink.write([del("never", 70n)]);
    expect(never.outcomes[0]).toMatchObject({ status: "ok", httpStatus: 404 });
    expect(await statuses([put("never", 69n, { title: "late copy" })])).toEqual(["stale"]);
    expect(await statuses([put("never", 71n, { title: "recreated" })])).toEqual(["ok"]);
  });

  it("lets an equal version replace the document (re-delivery is idempotent)", async () => {
    expect(await statuses([put("same", 7n, { title: "first" })])).toEqual(["ok"]);
    expect(await statuses([put("same", 7n, { title: "again" })])).toEqual(["ok"]);
    expect(await statuses([del("same", 8n), del("same", 8n)])).toEqual(["ok", "ok"]);
    expect(await one("same")).toBeUndefined();
  });

  it("stores versions above 2^53 exactly, up to 2^63-1", async () => {
    const above = 2n ** 53n + 1n; // a double holds 2^53 + 1 as 2^53
    expect(await statuses([put("big", above, { title: "a" })])).toEqual(["ok"]);
    expect((await one("big"))?.version).toBe(above);
    // Were the version rounded to 2^53 anywhere, this write would tie and succeed.
    expect(await statuses([put("big", 2n ** 53n, { title: "b" })])).toEqual(["stale"]);
    expect(await statuses([put("big", above, { title: "c" })])).toEqual(["ok"]);

    const top = 2n ** 63n - 1n;
    expect(await statuses([put("top", top, { title: "max" })])).toEqual(["ok"]);
    expect((await one("top"))?.version).toBe(top);
    expect(await statuses([put("top", top - 1n, { title: "below" })])).toEqual(["stale"]);
    const tooBig = await sink.write([
      put("top", top + 1n, { title: "over" }),
      put("fine", 1n, { title: "ok" }),
    ]);
    expect(tooBig.outcomes.map((o) => [o.status, o.errorType])).toEqual([
      ["rejected", "invalid_operation"],
      ["ok", undefined],
    ]);
  });

  it("asks for bulk answers cut to status, result and error, and still reads every outcome", async () => {
    const answers: string[] = [];
    const base = config();
    if (typeof base.node !== "string") throw new Error("one node expected");
    const proxy = await startProxy(base.node, {
      observe: {
        wants: (method, path) => method === "POST" && path.startsWith("/_bulk"),
        seen: ({ response }) => answers.push(response.toString("utf8")),
      },
    });
    const through = createSink({ ...base, node: proxy.url });
    try {
      await through.write([put("cut-stale", 10n, { n: 1 })]);
      const { outcomes } = await through.write([
        put("cut-ok", 1n, { n: 1 }),
        put("cut-stale", 9n, { n: 1 }),
        put("cut-bad", 1n, { n: "abc" }),
        del("cut-never", 1n),
      ]);
      expect(outcomes.map((o) => [o.status, o.httpStatus])).toEqual([
        ["ok", 201],
        ["stale", 409],
        ["rejected", 400],
        ["ok", 404],
      ]);
      expect(outcomes[2]?.reason).toMatch(/failed to parse field \[n\]/);
      const last = answers.at(-1) ?? "";
      expect(last).toMatch(/^\{"errors":true,"items":\[\{"index":\{"result":"created","status":201\}\}/);
      expect(last).not.toMatch(/"_seq_no"|"_shards"|"_version"/);
    } finally {
      await through.close();
      await proxy.close();
    }
  });

  it("rejects only the document that breaks the mapping, with the engine's reason", async () => {
    const { outcomes, stats } = await sink.write([
      put("m1", 1n, { n: 1 }),
      put("m2", 1n, { n: "abc" }),
      put("m3", 1n, { n: 3 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["ok", "rejected", "ok"]);
    expect(outcomes[1]?.httpStatus).toBe(400);
    // ES 8 says document_parsing_exception, OpenSearch mapper_parsing_exception.
    expect(outcomes[1]?.errorType).toMatch(/^(document|mapper)_parsing_exception$/);
    expect(outcomes[1]?.reason).toMatch(/failed to parse field \[n\] of type \[integer\]/);
    expect(stats).toMatchObject({ indexed: 2, rejected: 1 });
    expect(await one("m2")).toBeUndefined();
  });

  it("honours routing", async () => {
    await sink.write([put("routed", 3n, { title: "r" }, { routing: "tenant-7" })]);
    const [found] = await sink.getDocuments(index, [{ id: "routed", routing: "tenant-7" }]);
    expect(found).toMatchObject({ id: "routed", routing: "tenant-7", version: 3n });
    await sink.write([del("routed", 4n)].map((op) => ({ ...op, routing: "tenant-7" })));
    expect((await sink.getDocuments(index, [{ id: "routed", routing: "tenant-7" }]))[0]).toBeUndefined();
  });

  it("works with gzip compression both ways", async () => {
    const gzip = createSink({ ...config(), compression: true });
    try {
      const source = { title: "zipped", n: 42 };
      expect((await gzip.write([put("gz", 2n ** 62n, source)])).outcomes[0]?.status).toBe("ok");
      // Reads ask for raw text (exact versions) and must undo a gzip-encoded answer themselves.
      expect((await gzip.getDocuments(index, ["gz"]))[0]).toMatchObject({ version: 2n ** 62n, source });
    } finally {
      await gzip.close();
    }
  });

  it("writes a large batch in chunks, and scans it back with exact versions", async () => {
    const target = await newIndex("bulk");
    const base = 2n ** 60n;
    const ops: SinkOperation[] = Array.from({ length: 1200 }, (_, i) => ({
      kind: "index",
      index: target,
      id: `doc-${i}`,
      version: base + BigInt(i),
      source: { n: i, title: `t${i}` },
    }));
    const { stats } = await sink.write(ops);
    expect(stats).toMatchObject({ indexed: 1200, requests: 3, retried: 0 });
    await sink.refresh(target);
    expect(await sink.count(target)).toBe(1200);
    expect(await sink.count(target, { range: { n: { lt: 10 } } })).toBe(10);
    let seen = 0;
    for await (const doc of sink.scan(target, { batchSize: 500 })) {
      expect(doc.version).toBe(base + BigInt(doc.source.n as number));
      seen++;
    }
    expect(seen).toBe(1200);
  });

  it("swaps an alias atomically: searches through it never fail", async () => {
    const alias = `${prefix}-alias`;
    const blue = await newIndex("blue");
    const green = await newIndex("green");
    await sink.write([
      { kind: "index", index: blue, id: "b1", version: 1n, source: {} },
      ...["g1", "g2"].map((id) => ({ kind: "index" as const, index: green, id, version: 1n, source: {} })),
    ]);
    await sink.refresh(blue);
    await sink.refresh(green);
    expect(await sink.swapAlias(alias, blue)).toEqual({ previous: [] });
    expect(await sink.count(alias)).toBe(1);

    // Count through the alias continuously while it moves: every answer is one index or the other.
    let swapping = true;
    const counts: number[] = [];
    const reader = (async () => {
      while (swapping || counts.length < 5) counts.push(await sink.count(alias));
    })();
    const swapped = sink.swapAlias(alias, green).finally(() => {
      swapping = false;
    });
    expect(await swapped).toEqual({ previous: [blue] });
    await reader;
    expect(new Set(counts).size).toBeLessThanOrEqual(2);
    for (const c of counts) expect([1, 2]).toContain(c);
    expect(await sink.count(alias)).toBe(2);
    expect(await sink.getAliasTargets(alias)).toEqual([green]);
    // Writes through the alias land in the new index.
    expect(await statuses([{ kind: "index", index: alias, id: "g3", version: 1n, source: {} }])).toEqual([
      "ok",
    ]);
    expect((await sink.getDocuments(green, ["g3"]))[0]?.index).toBe(green);
  });

  it("takes over a concrete index of the alias's name only when asked", async () => {
    const legacy = await newIndex("legacy"); // what PGSync would have created under the alias name
    const next = await newIndex("next");
    await expect(sink.swapAlias(legacy, next)).rejects.toThrow(/is an index, not an alias/);
    expect(await sink.swapAlias(legacy, next, { replaceIndex: true })).toEqual({ previous: [] });
    expect(await sink.getAliasTargets(legacy)).toEqual([next]);
    expect(await sink.deleteIndex(next)).toEqual({ deleted: true });
    expect(await sink.indexExists(legacy)).toBe(false);
  });

  it("does not auto-create a missing alias with requireAlias, and says what to do", async () => {
    const missing = `${prefix}-no-such-alias`;
    const op: SinkOperation = {
      kind: "index",
      index: missing,
      id: "1",
      version: 1n,
      source: {},
      requireAlias: true,
    };
    const error = await sink.write([op]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkError);
    expect(error).toMatchObject({ errorType: "index_not_found_exception", retryable: false });
    expect((error as SinkError).fix).toMatch(/bootstrap/);
    expect(await sink.indexExists(missing)).toBe(false);
    await expect(sink.getDocuments(missing, ["1"])).rejects.toBeInstanceOf(SinkError);
    await expect(sink.count(missing)).rejects.toMatchObject({ httpStatus: 404 });
  });

  it("creates indices with the raised tombstone window", async () => {
    // Read back through a plain search on the settings API of the engine.
    const { url } = name === "elasticsearch" ? getServices().elasticsearch : getServices().opensearch;
    const { username, password } = getServices().elasticsearch;
    const headers: Record<string, string> =
      name === "elasticsearch"
        ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` }
        : {};
    const response = await fetch(`${url}/${index}/_settings/index.gc_deletes`, { headers });
    const body = (await response.json()) as Record<string, { settings: { index: { gc_deletes: string } } }>;
    expect(body[index]?.settings.index.gc_deletes).toBe(TOMBSTONE_INDEX_SETTINGS["index.gc_deletes"]);
  });
});
