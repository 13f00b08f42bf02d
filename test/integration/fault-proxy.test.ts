import { createHash, randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client as EsClient, errors as esErrors } from "@elastic/elasticsearch";
import { Client as OsClient } from "@opensearch-project/opensearch";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, seededRandom, startFaultProxy } from "../support/fault-proxy";
import { getServices } from "../support/services";

// The fault proxy in front of a local echo server (exact bytes) and the real engines (the real
// clients see the injected faults as they would see the engine's own).

const SUFFIX = randomBytes(4).toString("hex");
const proxies: FaultProxy[] = [];

async function proxyTo(target: string, seed?: number, engine?: "opensearch"): Promise<FaultProxy> {
  const p = await startFaultProxy({
    target,
    ...(seed === undefined ? {} : { seed }),
    ...(engine ? { engine } : {}),
  });
  proxies.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

describe("seededRandom", () => {
  it("repeats its sequence for a seed, differs across seeds, stays in [0, 1)", () => {
    const take = (seed: number) => Array.from({ length: 1000 }, seededRandom(seed));
    const a = take(42);
    expect(take(42)).toEqual(a);
    expect(take(43)).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe("pass-through to a local echo target", () => {
  let echo: Server;
  let echoUrl: string;
  /** Lets the echo target finish its streamed answer once the client saw the first chunk. */
  let releaseStream: () => void = () => {};
  const binary = randomBytes(64 * 1024);

  beforeAll(async () => {
    echo = createServer((req, res) => {
      if (req.url === "/binary") {
        res.writeHead(206, "Partial Thing", [
          "X-Target",
          "yes",
          "Set-Cookie",
          "a=1",
          "Set-Cookie",
          "b=2",
          "Content-Type",
          "application/octet-stream",
        ]);
        res.end(binary);
        return;
      }
      if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first;");
        new Promise<void>((resolve) => {
          releaseStream = resolve;
        }).then(() => res.end("last"));
        return;
      }
      const hash = createHash("sha256");
      let length = 0;
      req.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on("end", () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          sha256: hash.digest("hex"),
          length,
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    releaseStream();
    await new Promise((resolve) => echo?.close(resolve));
  });

  it("forwards method, path, query, headers and a streamed 2 MiB body unchanged", async () => {
    const proxy = await proxyTo(echoUrl);
    const payload = randomBytes(2 * 1024 * 1024);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${proxy.url}/idx/_doc/1?refresh=wait_for&x=%2F`, {
        method: "PUT",
        headers: {
          authorization: "ApiKey abc==",
          "x-opaque-id": "t1",
          "content-type": "application/x-ndjson",
        },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      // Chunked, in pieces: the proxy must stream, not expect a content-length.
      for (let i = 0; i < payload.length; i += 256 * 1024) req.write(payload.subarray(i, i + 256 * 1024));
      req.end();
    });
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      sha256: string;
      length: number;
    };
    expect(seen.method).toBe("PUT");
    expect(seen.url).toBe("/idx/_doc/1?refresh=wait_for&x=%2F");
    expect(seen.headers.authorization).toBe("ApiKey abc==");
    expect(seen.headers["x-opaque-id"]).toBe("t1");
    expect(seen.headers["content-type"]).toBe("application/x-ndjson");
    expect(seen.headers.host).toBe(new URL(echoUrl).host);
    expect(seen.length).toBe(payload.length);
    expect(seen.sha256).toBe(createHash("sha256").update(payload).digest("hex"));
    expect(proxy.stats()).toEqual({
      forwarded: 1,
      injected: 0,
      byStatus: {},
      hung: 0,
      bulkItemsFailed: 0,
      bulkOperations: 0,
      largestBulk: 0,
      bulkSizes: [],
    });
  });

  it("returns the target's status, headers (repeated ones too) and binary body byte for byte", async () => {
    const proxy = await proxyTo(echoUrl);
    const res = await fetch(`${proxy.url}/binary`);
    expect(res.status).toBe(206);
    expect(res.statusText).toBe("Partial Thing");
    expect(res.headers.get("x-target")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(Buffer.from(await res.arrayBuffer()).equals(binary)).toBe(true);
  });

  it("streams the answer: the first chunk arrives before the target has finished", async () => {
    const proxy = await proxyTo(echoUrl);
    const res = await fetch(`${proxy.url}/stream`);
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe("first;");
    releaseStream();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += Buffer.from(r.value).toString();
    expect(rest).toBe("last");
  });

  it("refuses targets that are not plain-HTTP loopback", async () => {
    await expect(startFaultProxy({ target: "http://example.com:9200" })).rejects.toThrow(/loopback/);
    await expect(startFaultProxy({ target: "https://127.0.0.1:9200" })).rejects.toThrow(/loopback/);
  });

  it("rejects invalid settings", async () => {
    const proxy = await proxyTo(echoUrl);
    expect(() => proxy.setFaults({ rate: 1.5 })).toThrow(RangeError);
    expect(() => proxy.setFaults({ statuses: [200] })).toThrow(RangeError);
  });

  it("close() ends requests left hanging", async () => {
    const proxy = await startFaultProxy({ target: echoUrl });
    proxy.setFaults({ hangNext: 1 });
    const pending = fetch(`${proxy.url}/anything`);
    const deadline = Date.now() + 5000;
    while (proxy.stats().hung === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(proxy.stats().hung).toBe(1);
    await proxy.close();
    await expect(pending).rejects.toThrow();
  });
});

describe("Elasticsearch through the fault proxy", () => {
  const index = `slotsync-fault-${SUFFIX}`;
  let direct: EsClient;
  let proxy: FaultProxy;
  const clients: EsClient[] = [];

  function via(options: { maxRetries?: number; requestTimeout?: number; password?: string } = {}): EsClient {
    const { username, password } = getServices().elasticsearch;
    const client = new EsClient({
      node: proxy.url,
      auth: { username, password: options.password ?? password },
      maxRetries: options.maxRetries ?? 0,
      ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
    });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    const { url, username, password } = getServices().elasticsearch;
    direct = new EsClient({ node: url, auth: { username, password } });
    await direct.indices.create({ index });
    proxy = await proxyTo(url, 7);
  });

  afterEach(() => proxy.setFaults({}));

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await direct?.indices.delete({ index, ignore_unavailable: true });
    await direct?.close();
  });

  it("passes requests and credentials through, and counts them", async () => {
    const before = proxy.stats().forwarded;
    const es = via();
    await es.index({ index, id: "pass", document: { n: 1 }, refresh: "wait_for" });
    const found = await es.search({ index, query: { ids: { values: ["pass"] } } });
    expect(found.hits.hits.map((h) => h._id)).toEqual(["pass"]);
    await expect(via({ password: "wrong" }).search({ index })).rejects.toMatchObject({ statusCode: 401 });
    expect(proxy.stats().forwarded - before).toBe(3);
    expect(proxy.stats().injected).toBe(0);
  });

  it("injects a 429 the client reports like the engine's own rejection", async () => {
    proxy.setFaults({ failNext: 1, statuses: [429] });
    const err = await via()
      .search({ index })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(esErrors.ResponseError);
    const e = err as InstanceType<typeof esErrors.ResponseError>;
    expect(e.statusCode).toBe(429);
    expect(e.body).toMatchObject({ status: 429, error: { type: "es_rejected_execution_exception" } });
    expect(proxy.stats().byStatus[429]).toBe(1);
    // failNext is used up: the next request goes through.
    await expect(via().search({ index })).resolves.toMatchObject({ timed_out: false });
  });

  it("lets the client's own retry ride over one injected 503", async () => {
    const before = proxy.stats();
    proxy.setFaults({ failNext: 1, statuses: [503] });
    const res = await via({ maxRetries: 2 }).count({ index });
    expect(res.count).toBeGreaterThanOrEqual(0);
    const after = proxy.stats();
    expect(after.injected - before.injected).toBe(1);
    expect((after.byStatus[503] ?? 0) - (before.byStatus[503] ?? 0)).toBe(1);
    expect(after.forwarded - before.forwarded).toBe(1);
  });

  it("limits faults to onlyPaths", async () => {
    proxy.setFaults({ rate: 1, statuses: [503], onlyPaths: /\/_bulk\b/ });
    const es = via();
    await expect(es.count({ index })).resolves.toMatchObject({ count: expect.any(Number) });
    await expect(
      es.bulk({ operations: [{ index: { _index: index, _id: "x" } }, { n: 1 }] }),
    ).rejects.toMatchObject({
      statusCode: 503,
    });
  });

  it("hangs the next request so that the client times out, then answers again", async () => {
    proxy.setFaults({ hangNext: 1 });
    const es = via({ requestTimeout: 300 });
    await expect(es.count({ index })).rejects.toBeInstanceOf(esErrors.TimeoutError);
    expect(proxy.stats().hung).toBeGreaterThanOrEqual(1);
    await expect(es.count({ index })).resolves.toMatchObject({ count: expect.any(Number) });
  });

  it("delays matching requests by delayMs", async () => {
    proxy.setFaults({ delayMs: 250 });
    const started = performance.now();
    await via().count({ index });
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it("slows each _bulk by bulkDelayPerDocMs per operation, then writes it", async () => {
    const before = proxy.stats();
    proxy.setFaults({ bulkDelayPerDocMs: 30 });
    const ids = Array.from({ length: 10 }, (_, i) => `slow-${i}`);
    const started = performance.now();
    const res = await via().bulk({
      index,
      refresh: "wait_for",
      operations: ids.flatMap((id, n) => [{ index: { _id: id } }, { n }]),
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.errors).toBe(false);
    expect((await direct.count({ index, query: { ids: { values: ids } } })).count).toBe(10);
    expect(proxy.stats().bulkOperations - before.bulkOperations).toBe(10);
    expect(proxy.stats().largestBulk).toBeGreaterThanOrEqual(10);
    expect(proxy.stats().bulkSizes.at(-1)).toBe(10);
  });

  it("with bulkWorkers, a _bulk waits its turn and a full queue answers 429 like the engine", async () => {
    proxy.setFaults({ bulkDelayPerDocMs: 100, bulkWorkers: 1, bulkQueueLimit: 5 });
    const es = via();
    const ops = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => [
        { index: { _index: index, _id: `${prefix}-${i}` } },
        { i },
      ]).flat();
    const first = es.bulk({ operations: ops("busy", 10) });
    // Sent once the first request is being worked on (10 operations, 1 s, queued ahead of it).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await es.bulk({ operations: ops("refused", 1) }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(esErrors.ResponseError);
    expect((second as InstanceType<typeof esErrors.ResponseError>).body).toMatchObject({
      status: 429,
      error: { type: "es_rejected_execution_exception" },
    });
    expect((await first).errors).toBe(false);
    // The queue drained with the first request: the next one is served.
    expect((await es.bulk({ operations: ops("after", 1) })).errors).toBe(false);
  });

  it("injects at `rate`, deterministically for a seed", async () => {
    const { url } = getServices().elasticsearch;
    const auth = `Basic ${Buffer.from(`${getServices().elasticsearch.username}:${getServices().elasticsearch.password}`).toString("base64")}`;
    const outcomes = async (seed: number) => {
      const p = await proxyTo(url, seed);
      p.setFaults({ rate: 0.5, statuses: [429, 503] });
      const seen: number[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${p.url}/${index}/_count`, { headers: { authorization: auth } });
        await res.arrayBuffer();
        seen.push(res.status);
      }
      return { seen, stats: p.stats() };
    };
    const a = await outcomes(11);
    const b = await outcomes(11);
    const c = await outcomes(12);
    expect(b.seen).toEqual(a.seen);
    expect(c.seen).not.toEqual(a.seen);
    expect(new Set(a.seen)).toEqual(new Set([200, 429, 503]));
    expect(a.stats.injected).toBe(a.seen.filter((s) => s !== 200).length);
    expect(a.stats.forwarded).toBe(a.seen.filter((s) => s === 200).length);
    expect(a.stats.byStatus[429]).toBe(a.seen.filter((s) => s === 429).length);
    expect(a.stats.injected).toBeGreaterThan(5);
    expect(a.stats.injected).toBeLessThan(25);
  });

  it("withholds a subset of bulk items and reports them as 429 items; retrying them completes the batch", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `bulk-${i}`);
    const before = proxy.stats().bulkItemsFailed;
    proxy.setFaults({ bulkItemStatuses: [429], bulkItemRate: 0.5 });
    const es = via();
    const res = await es.bulk({
      index,
      refresh: "wait_for",
      operations: ids.flatMap((id, n) => [{ index: { _id: id } }, { n }]),
    });
    expect(res.errors).toBe(true);
    expect(res.items).toHaveLength(ids.length);
    const failed = res.items.filter((it) => it.index?.status === 429).map((it) => it.index?._id);
    const ok = res.items.filter((it) => it.index?.status === 201).map((it) => it.index?._id);
    expect(failed.length + ok.length).toBe(ids.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(0);
    expect(res.items.map((it) => it.index?._id)).toEqual(ids);
    const rejected = res.items.find((it) => it.index?.status === 429)?.index;
    expect(rejected?.error?.type).toBe("es_rejected_execution_exception");
    expect(rejected?._index).toBe(index);
    expect(proxy.stats().bulkItemsFailed - before).toBe(failed.length);

    // The withheld items were really not written; the others were.
    await direct.indices.refresh({ index });
    const present = await direct.search({ index, query: { ids: { values: ids } }, size: 50 });
    expect(present.hits.hits.map((h) => h._id).sort()).toEqual([...ok].sort());

    proxy.setFaults({});
    const retry = await es.bulk({
      index,
      refresh: "wait_for",
      operations: failed.flatMap((id) => [{ index: { _id: id } }, { retried: true }]),
    });
    expect(retry.errors).toBe(false);
    expect((await direct.count({ index, query: { ids: { values: ids } } })).count).toBe(ids.length);
  });

  it("lets the client's bulk helper retry 429 items until all documents are indexed", async () => {
    const docs = Array.from({ length: 30 }, (_, n) => ({ id: `helper-${n}`, n }));
    const before = proxy.stats().bulkItemsFailed;
    proxy.setFaults({ bulkItemStatuses: [429], bulkItemRate: 0.4 });
    const result = await via().helpers.bulk({
      datasource: docs,
      onDocument: (doc) => ({ index: { _index: index, _id: doc.id } }),
      retries: 20,
      wait: 10,
      refreshOnCompletion: index,
    });
    expect(result.failed).toBe(0);
    expect(result.successful).toBe(docs.length);
    expect(proxy.stats().bulkItemsFailed - before).toBeGreaterThan(0);
    const count = await direct.count({ index, query: { ids: { values: docs.map((d) => d.id) } } });
    expect(count.count).toBe(docs.length);
  });
});

describe("OpenSearch through the fault proxy", () => {
  it("passes through and injects OpenSearch-shaped item and request failures", async () => {
    const index = `slotsync-fault-os-${SUFFIX}`;
    const { url } = getServices().opensearch;
    const proxy = await proxyTo(url, 3, "opensearch");
    const os = new OsClient({ node: proxy.url, maxRetries: 0 });
    try {
      await os.indices.create({ index });
      proxy.setFaults({ bulkItemStatuses: [429], bulkItemRate: 1 });
      const bulk = await os.bulk({
        index,
        body: [{ index: { _id: "a" } }, { n: 1 }, { delete: { _id: "b" } }],
      });
      expect(bulk.body.items.map((it) => Object.values(it)[0]?.status)).toEqual([429, 429]);
      expect(Object.values(bulk.body.items[0] ?? {})[0]?.error?.type).toBe("rejected_execution_exception");
      expect(proxy.stats().forwarded).toBe(1);

      proxy.setFaults({ failNext: 1, statuses: [429] });
      await expect(os.count({ index })).rejects.toMatchObject({ statusCode: 429 });
      await expect(os.count({ index })).resolves.toMatchObject({ body: { count: 0 } });
    } finally {
      proxy.setFaults({});
      await os.indices.delete({ index, ignore_unavailable: true });
      await os.close();
    }
  });
});
