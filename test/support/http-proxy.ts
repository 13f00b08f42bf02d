/**
 * A pass-through HTTP proxy, shared by the benchmark and the tests that run PGSync: counts requests
 * (and Upstash commands, and SQS actions) for the benchmark's cost model, and can answer
 * Elasticsearch's root endpoint (`GET /`) itself.
 *
 * Why the root endpoint: the local Elasticsearch is the integration-test distribution, which lacks
 * the `rest-root` module, so `GET /` answers 405 there. PGSync's client (elasticsearch-py 7.17)
 * reads the server version from `GET /` and checks the `X-Elastic-Product` header before any other
 * call. A real Elasticsearch answers it; the proxy answers with what a real one would say, built
 * from the nodes info API (version, build hash, cluster name and UUID). Everything else is
 * forwarded unchanged, and every engine client in the benchmark goes through the same proxy so
 * they all pay the same extra hop.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync, inflateSync } from "node:zlib";

export interface CountingProxy {
  url: string;
  /** Requests forwarded, by key (`METHOD /first-path-segment`, or the SQS action / Upstash path). */
  readonly counts: Map<string, number>;
  /** Upstash commands: one per command in a `/pipeline` or `/multi-exec` body, one per other request. */
  readonly commands: { value: number };
  reset(): void;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Answer `GET /` like Elasticsearch's root endpoint (needs `auth` to ask the nodes info API). */
  elasticRoot?: { auth: string };
  /** Count Upstash commands in request bodies. */
  upstash?: boolean;
  /** Sees the exchanges it wants, once their whole response came back from the target. */
  observe?: ExchangeObserver;
}

/**
 * Looks at request/response pairs as they pass (the benchmark times when a consumer's `_bulk`
 * holding a marker document was answered). Only exchanges `wants` accepts have their response
 * buffered; the client receives the response as it streams either way.
 */
export interface ExchangeObserver {
  wants(method: string, path: string, body: Buffer): boolean;
  /** `at`: when the response's last byte arrived from the target (ms since epoch). */
  seen(exchange: { path: string; request: Buffer; response: Buffer; status: number; at: number }): void;
}

/** Starts a proxy on a free loopback port in front of `target` (an http:// base URL). */
export async function startProxy(target: string, options: ProxyOptions = {}): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const counts = new Map<string, number>();
  const commands = { value: 0 };
  let root: string | undefined;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const path = req.url ?? "/";
    const observed = options.observe?.wants(req.method ?? "GET", path, body) ? options.observe : undefined;
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (observed) {
          const chunks: Buffer[] = [];
          up.on("data", (c: Buffer) => chunks.push(c));
          up.on("end", () => {
            const at = Date.now();
            let response = Buffer.concat(chunks);
            const encoding = up.headers["content-encoding"];
            if (encoding === "gzip") response = gunzipSync(response);
            else if (encoding === "deflate") response = inflateSync(response);
            observed.seen({ path, request: body, response, status: up.statusCode ?? 0, at });
          });
        }
        up.pipe(res);
      },
    );
    out.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(error.message);
    });
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const key = countKey(req, options.upstash === true);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (options.upstash) commands.value += upstashCommands(req.url ?? "/", body);
      if (options.elasticRoot && (req.method === "GET" || req.method === "HEAD") && req.url === "/") {
        void elasticRoot(upstream, options.elasticRoot.auth).then(
          (info) => {
            root ??= info;
            res.writeHead(200, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" });
            res.end(req.method === "HEAD" ? undefined : root);
          },
          (error: Error) => {
            res.writeHead(502);
            res.end(error.message);
          },
        );
        return;
      }
      forward(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    commands,
    reset() {
      counts.clear();
      commands.value = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

function countKey(req: IncomingMessage, upstash: boolean): string {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.replace(/^AmazonSQS\./, "");
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (upstash) return path === "/" ? "command" : path.slice(1);
  return `${req.method} /${path.split("/")[1] ?? ""}`;
}

/** Upstash bills each command; a pipeline or transaction body is a JSON array of commands. */
function upstashCommands(url: string, body: Buffer): number {
  if (!url.startsWith("/pipeline") && !url.startsWith("/multi-exec")) return 1;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return Array.isArray(parsed) ? parsed.length : 1;
  } catch {
    return 1;
  }
}

/** What Elasticsearch's `GET /` returns, from the nodes info and cluster state APIs. */
async function elasticRoot(upstream: URL, auth: string): Promise<string> {
  const get = async (path: string) => {
    const res = await fetch(new URL(path, upstream), { headers: { authorization: auth } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const nodes = (await get(
    "/_nodes/_local?filter_path=cluster_name,nodes.*.version,nodes.*.name,nodes.*.build_hash",
  )) as {
    cluster_name: string;
    nodes: Record<string, { name: string; version: string; build_hash: string }>;
  };
  const state = (await get("/_cluster/state/metadata?filter_path=metadata.cluster_uuid")) as {
    metadata: { cluster_uuid: string };
  };
  const node = Object.values(nodes.nodes)[0];
  return JSON.stringify({
    name: node?.name,
    cluster_name: nodes.cluster_name,
    cluster_uuid: state.metadata.cluster_uuid,
    version: {
      number: node?.version,
      build_flavor: "default",
      build_type: "zip",
      build_hash: node?.build_hash,
      lucene_version: "",
      minimum_wire_compatibility_version: "7.17.0",
      minimum_index_compatibility_version: "7.0.0",
    },
    tagline: "You Know, for Search",
  });
}
