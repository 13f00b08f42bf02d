import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the listener received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/api/webhooks/1/token`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (throws when it is not). */
  json<T = unknown>(): T;
}

/** How the listener answers one request. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | object;
}

export interface HttpListener {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /**
   * Answers the next requests with these, in order; after them (and by default) every request gets
   * `204 No Content`. Scripted answers are recorded like any other request.
   */
  respondWith(...responses: ScriptedResponse[]): void;
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Forgets the requests received so far (and any scripted answers not used yet). */
  clear(): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that records every request: a stand-in for webhook receivers
 * (Discord, Slack, anything that takes a JSON POST), and a way to script their failures (429 with
 * `retry_after`, 5xx). Listens on an ephemeral port, so suites never collide.
 */
export async function startHttpListener(): Promise<HttpListener> {
  const requests: RecordedRequest[] = [];
  let script: ScriptedResponse[] = [];
  const waiters = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
        json: <T>() => JSON.parse(body) as T,
      });
      const answer = script.shift() ?? { status: 204 };
      const text =
        answer.body === undefined
          ? ""
          : typeof answer.body === "string"
            ? answer.body
            : JSON.stringify(answer.body);
      const headers = {
        ...(typeof answer.body === "object" ? { "content-type": "application/json" } : {}),
        ...answer.headers,
      };
      res.writeHead(answer.status, headers);
      res.end(answer.status === 204 ? undefined : text);
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(...responses) {
      script.push(...responses);
    },
    waitForRequests(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          cleanup();
          resolve(requests.slice(0, count));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`expected ${count} requests within ${timeoutMs} ms, got ${requests.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    clear() {
      requests.length = 0;
      script = [];
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
