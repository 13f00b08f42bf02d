import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/**
 * What the proxy does to the requests it receives. `setFaults` replaces the whole set: `setFaults({})`
 * turns every fault off. Only requests whose path (with query) matches `onlyPaths` are affected.
 */
export interface FaultSettings {
  /** Fraction (0..1) of matching requests answered with an injected error instead of forwarded. */
  rate?: number;
  /** Statuses to inject, one picked at random per fault; default `[503]`. */
  statuses?: number[];
  /** Only requests whose `path?query` matches are delayed, hung or failed; default: all. */
  onlyPaths?: RegExp;
  /** The next N matching requests fail (before `rate` applies). */
  failNext?: number;
  /** Wait this long before handling each matching request. */
  delayMs?: number;
  /** The next N matching requests get no answer at all until `close()`: for client timeout tests. */
  hangNext?: number;
  /**
   * Statuses for per-item `_bulk` failures. When set, each item of a matching `_bulk` request is,
   * with probability `bulkItemRate`, withheld from the engine and reported in the (otherwise real)
   * response with one of these statuses: like a real item-level 429, that item was not written.
   */
  bulkItemStatuses?: number[];
  /** Fraction (0..1) of bulk items withheld when `bulkItemStatuses` is set; default 0.5. */
  bulkItemRate?: number;
  /**
   * A slow engine: each `_bulk` request is answered this many ms per operation in its body later
   * (a 500-operation request at 50 ms takes 25 s), as ingest pipelines with inference or script
   * processors make it. The operations are forwarded after the wait, so a request the client gave
   * up on still reaches the engine, as it would.
   */
  bulkDelayPerDocMs?: number;
  /**
   * With `bulkDelayPerDocMs`: the engine works on at most this many requests at once (its write
   * threads); the others wait their turn, first come first served. Unset: every request is served
   * at once, however many arrive together.
   */
  bulkWorkers?: number;
  /**
   * With `bulkWorkers`: a request arriving while more than this many operations wait is refused
   * whole with 429 `es_rejected_execution_exception`, as a full write queue does.
   */
  bulkQueueLimit?: number;
}

/** Counters since the proxy started. */
export interface FaultStats {
  /** Requests that reached the target (bulk requests with some items withheld included). */
  forwarded: number;
  /** Requests answered with an injected error status. */
  injected: number;
  /** Injected request-level statuses, by status. */
  byStatus: Record<number, number>;
  /** Requests left unanswered (`hangNext`). */
  hung: number;
  /** Bulk items withheld and reported as failed (`bulkItemStatuses`). */
  bulkItemsFailed: number;
  /** Operations delayed by `bulkDelayPerDocMs`, and the largest request seen (operations). */
  bulkOperations: number;
  largestBulk: number;
  /** Operations of each request `bulkDelayPerDocMs` delayed, in arrival order. */
  bulkSizes: number[];
}

/** A running fault proxy; see {@link startFaultProxy}. */
export interface FaultProxy {
  /** Base URL to give the client instead of the engine's. */
  url: string;
  setFaults(faults: FaultSettings): void;
  stats(): FaultStats;
  /** Stops listening, drops hung and open connections. */
  close(): Promise<void>;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Plain-HTTP loopback URL of the engine, e.g. the `url` of `getServices().elasticsearch`. */
  target: string;
  /** Seed of the random choices (which request fails, which status, which bulk items); default 1. */
  seed?: number;
  /** Whose error bodies to imitate; default "elasticsearch". */
  engine?: "elasticsearch" | "opensearch";
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). Same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `error` object the engine itself would put in a response or a bulk item with this status. */
export function engineError(
  status: number,
  engine: FaultProxyOptions["engine"] = "elasticsearch",
): { type: string; reason: string } {
  const note = "(injected by the slotsync fault proxy)";
  switch (status) {
    case 429:
      return {
        type: engine === "opensearch" ? "rejected_execution_exception" : "es_rejected_execution_exception",
        reason: `rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1, max_coordinating_and_primary_bytes=0] ${note}`,
      };
    case 503:
      return {
        type: "unavailable_shards_exception",
        reason: `[index][0] primary shard is not active Timeout: [1m] ${note}`,
      };
    case 500:
      return { type: "exception", reason: `internal error ${note}` };
    default:
      return { type: "status_exception", reason: `status ${status} ${note}` };
  }
}

/** Response headers as a flat raw list, without hop-by-hop and the listed headers. */
function rawHeaders(up: IncomingMessage, drop: string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
    const name = up.rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !drop.includes(lower)) out.push(name, up.rawHeaders[i + 1] ?? "");
  }
  return out;
}

function requestHeaders(
  headers: IncomingHttpHeaders,
  host: string,
  drop: string[] = [],
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !drop.includes(name)) out[name] = value;
  }
  out.host = host;
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** One bulk item: its action line, the source line unless it is a delete, and where it goes. */
interface BulkItem {
  op: string;
  lines: string[];
  index: string | undefined;
  id: string | undefined;
}

function parseBulk(body: string, pathIndex: string | undefined): BulkItem[] {
  const lines = body.split("\n").filter((l) => l.trim() !== "");
  const items: BulkItem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const actionLine = lines[i] ?? "";
    const action = JSON.parse(actionLine) as Record<string, { _index?: string; _id?: string }>;
    const op = Object.keys(action)[0] ?? "index";
    const meta = action[op] ?? {};
    const item: BulkItem = { op, lines: [actionLine], index: meta._index ?? pathIndex, id: meta._id };
    if (op !== "delete") item.lines.push(lines[++i] ?? "{}");
    items.push(item);
  }
  return items;
}

/**
 * Starts an HTTP proxy on 127.0.0.1 in front of a search engine. Requests are forwarded unchanged
 * (method, path, query, headers including authorization, streamed body; only `host` and hop-by-hop
 * headers are rewritten) until faults are set; injected errors carry engine-shaped JSON bodies
 * (`{"error":{"root_cause":[…],"type":…,"reason":…},"status":N}`). The random choices come from a
 * seeded PRNG drawn in request arrival order, so a sequential client sees the same faults every run.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== "http:" || !LOOPBACK_HOSTS.has(target.hostname)) {
    throw new Error(`fault proxy targets plain-HTTP loopback URLs only, not ${options.target}`);
  }
  const engine = options.engine ?? "elasticsearch";
  const random = seededRandom(options.seed ?? 1);
  const agent = new Agent({ keepAlive: true });
  const hanging = new Set<ServerResponse>();
  let faults: FaultSettings = {};
  let failNext = 0;
  let hangNext = 0;
  const counters: FaultStats = {
    forwarded: 0,
    injected: 0,
    byStatus: {},
    hung: 0,
    bulkItemsFailed: 0,
    bulkOperations: 0,
    largestBulk: 0,
    bulkSizes: [],
  };
  /** When each of the `bulkWorkers` is free again (epoch ms). */
  let workersFreeAt: number[] = [];

  const pick = (statuses: number[] | undefined): number => {
    const list = statuses && statuses.length > 0 ? statuses : [503];
    return list[Math.floor(random() * list.length)] ?? 503;
  };

  function inject(req: IncomingMessage, res: ServerResponse, status: number): void {
    req.resume();
    const error = engineError(status, engine);
    const body = JSON.stringify({ error: { root_cause: [error], ...error }, status });
    counters.injected++;
    counters.byStatus[status] = (counters.byStatus[status] ?? 0) + 1;
    res.writeHead(status, {
      "content-type": "application/json; charset=UTF-8",
      "content-length": Buffer.byteLength(body),
      "x-fault-proxy": "injected",
    });
    res.end(body);
  }

  function upstreamRequest(req: IncomingMessage, path: string, headers: IncomingHttpHeaders) {
    counters.forwarded++;
    return httpRequest({
      host: target.hostname.replace(/^\[|\]$/g, ""),
      port: target.port || 80,
      method: req.method,
      path,
      headers,
      agent,
    });
  }

  function fail(res: ServerResponse, err: Error): void {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`fault proxy: upstream error: ${err.message}`);
  }

  /** Pipes the request to the target and the answer back, both streamed. */
  function forward(req: IncomingMessage, res: ServerResponse): void {
    const up = upstreamRequest(req, req.url ?? "/", requestHeaders(req.headers, target.host));
    up.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, rawHeaders(answer));
      answer.pipe(res);
    });
    up.on("error", (err) => fail(res, err));
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  /** A `_bulk` body, decompressed, and its items. */
  async function readBulk(req: IncomingMessage): Promise<{ body: Buffer; items: BulkItem[] }> {
    let body = await readAll(req);
    if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
    const url = new URL(req.url ?? "/", "http://proxy");
    const pathIndex = /^\/([^/_][^/]*)\/_bulk$/.exec(url.pathname)?.[1];
    return { body, items: parseBulk(body.toString("utf8"), pathIndex && decodeURIComponent(pathIndex)) };
  }

  /**
   * Waits as a slow engine would before it answers a `_bulk` of `operations` operations; false
   * when the request is refused because the engine's queue is full.
   */
  async function slowDown(operations: number, f: FaultSettings): Promise<boolean> {
    const perDoc = f.bulkDelayPerDocMs ?? 0;
    counters.bulkOperations += operations;
    counters.largestBulk = Math.max(counters.largestBulk, operations);
    counters.bulkSizes.push(operations);
    const work = operations * perDoc;
    const now = Date.now();
    let until = now + work;
    if (f.bulkWorkers && f.bulkWorkers > 0) {
      if (workersFreeAt.length !== f.bulkWorkers) workersFreeAt = new Array(f.bulkWorkers).fill(0);
      const queued = workersFreeAt.reduce((sum, t) => sum + Math.max(0, t - now), 0) / Math.max(perDoc, 1e-9);
      if (f.bulkQueueLimit !== undefined && queued > f.bulkQueueLimit) return false;
      let w = 0;
      for (let i = 1; i < workersFreeAt.length; i++)
        if ((workersFreeAt[i] ?? 0) < (workersFreeAt[w] ?? 0)) w = i;
      until = Math.max(now, workersFreeAt[w] ?? 0) + work;
      workersFreeAt[w] = until;
    }
    if (until > now) await new Promise((resolve) => setTimeout(resolve, until - now));
    return true;
  }

  /** Forwards a request whose (decompressed) body was already read. */
  function forwardBody(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const headers = requestHeaders(req.headers, target.host, ["content-encoding"]);
    headers["content-length"] = String(body.length);
    const up = upstreamRequest(req, req.url ?? "/", headers);
    up.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, rawHeaders(answer));
      answer.pipe(res);
    });
    up.on("error", (err) => fail(res, err));
    up.end(body);
  }

  /** `_bulk` with item faults: withholds some items from the engine and reports them as failed. */
  async function forwardBulk(
    req: IncomingMessage,
    res: ServerResponse,
    itemStatuses: number[],
    read: { body: Buffer; items: BulkItem[] },
  ): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy");
    const items = read.items;
    const itemRate = faults.bulkItemRate ?? 0.5;
    const withheld = new Map<number, number>();
    items.forEach((_, i) => {
      if (random() < itemRate) withheld.set(i, pick(itemStatuses));
    });
    counters.bulkItemsFailed += withheld.size;
    const failed = (i: number, status: number) => {
      const item = items[i] as BulkItem;
      const result = { _index: item.index, ...(item.id === undefined ? {} : { _id: item.id }), status };
      return { [item.op]: { ...result, error: { ...engineError(status, engine), index: item.index } } };
    };
    const send = (status: number, json: unknown, headers: string[] = []) => {
      const text = JSON.stringify(json);
      res.writeHead(status, [...headers, "content-length", String(Buffer.byteLength(text))]);
      res.end(text);
    };
    const kept = items.filter((_, i) => !withheld.has(i));
    if (kept.length === 0) {
      send(200, { errors: true, took: 0, items: items.map((_, i) => failed(i, withheld.get(i) ?? 429)) }, [
        "content-type",
        "application/json",
      ]);
      return;
    }
    // Whole answers are needed to merge: no compression, no filter_path.
    url.searchParams.delete("filter_path");
    const payload = Buffer.from(`${kept.flatMap((it) => it.lines).join("\n")}\n`);
    const headers = requestHeaders(req.headers, target.host, ["content-encoding", "accept-encoding"]);
    headers["content-length"] = String(payload.length);
    const up = upstreamRequest(req, `${url.pathname}${url.search}`, headers);
    up.on("error", (err) => fail(res, err));
    up.on("response", (answer) => {
      readAll(answer).then(
        (raw) => {
          const keepHeaders = rawHeaders(answer, ["content-length", "content-encoding"]);
          const parsed = JSON.parse(raw.toString("utf8") || "{}") as { items?: unknown[]; errors?: boolean };
          if (
            answer.statusCode !== 200 ||
            !Array.isArray(parsed.items) ||
            parsed.items.length !== kept.length
          ) {
            res.writeHead(answer.statusCode ?? 502, [...keepHeaders, "content-length", String(raw.length)]);
            res.end(raw);
            return;
          }
          const real = parsed.items[Symbol.iterator]();
          const merged = items.map((_, i) => {
            const status = withheld.get(i);
            return status === undefined ? real.next().value : failed(i, status);
          });
          send(
            200,
            { ...parsed, errors: parsed.errors === true || withheld.size > 0, items: merged },
            keepHeaders,
          );
        },
        (err: Error) => fail(res, err),
      );
    });
    up.end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "/";
    const f = faults;
    if (f.onlyPaths) f.onlyPaths.lastIndex = 0;
    if (f.onlyPaths && !f.onlyPaths.test(path)) return forward(req, res);
    if (hangNext > 0) {
      hangNext--;
      counters.hung++;
      req.resume();
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (f.delayMs && f.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, f.delayMs));
    if (failNext > 0) {
      failNext--;
      return inject(req, res, pick(f.statuses));
    }
    if (f.rate && f.rate > 0 && random() < f.rate) return inject(req, res, pick(f.statuses));
    const isBulk = /(^|\/)_bulk$/.test(new URL(path, "http://proxy").pathname) && req.method !== "GET";
    const itemFaults = f.bulkItemStatuses && f.bulkItemStatuses.length > 0 ? f.bulkItemStatuses : undefined;
    if (isBulk && (itemFaults || f.bulkDelayPerDocMs)) {
      const read = await readBulk(req);
      if (f.bulkDelayPerDocMs && !(await slowDown(read.items.length, f))) {
        return inject(req, res, 429);
      }
      if (itemFaults) return forwardBulk(req, res, itemFaults, read);
      return forwardBody(req, res, read.body);
    }
    forward(req, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => fail(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setFaults(next) {
      for (const [name, value] of [
        ["rate", next.rate],
        ["bulkItemRate", next.bulkItemRate],
      ] as const) {
        if (value !== undefined && !(value >= 0 && value <= 1))
          throw new RangeError(`${name} must be in 0..1`);
      }
      for (const s of [...(next.statuses ?? []), ...(next.bulkItemStatuses ?? [])]) {
        if (!Number.isInteger(s) || s < 400 || s > 599) throw new RangeError(`not an error status: ${s}`);
      }
      faults = { ...next };
      // A new setting starts with idle workers (requests already waiting finish on their own).
      workersFreeAt = [];
      failNext = next.failNext ?? 0;
      hangNext = next.hangNext ?? 0;
    },
    stats: () => ({ ...counters, byStatus: { ...counters.byStatus }, bulkSizes: [...counters.bulkSizes] }),
    async close() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
