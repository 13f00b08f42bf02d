import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import {
  commandFromJson,
  commandFromPath,
  commandsFromJson,
  encodeReply,
  ProtocolError,
  type RedisCommand,
} from "./upstash-protocol";

/** Where the adapter finds Redis, the token clients must present, and where it listens. */
export interface UpstashRestAdapterOptions {
  redisHost: string;
  redisPort: number;
  /** The REST token; compared in constant time against `Authorization: Bearer` or `?_token=`. */
  token: string;
  /** Interface to listen on; defaults to 127.0.0.1 so the unauthenticated port stays local. */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free ephemeral port. */
  port?: number;
}

/** A running adapter: pass `url` and `token` to `new Redis({ url, token })` from `@upstash/redis`. */
export interface UpstashRestAdapter {
  url: string;
  token: string;
  port: number;
  /** Stops accepting requests, drops open HTTP connections and closes every Redis connection. */
  close(): Promise<void>;
}

/** Request bodies above this are refused with 413; Upstash's own limits are of the same order. */
const MAX_BODY_BYTES = 100 * 1024 * 1024;
/** Idle transaction connections kept for reuse; more concurrent transactions open more. */
const MAX_IDLE_TX_CONNECTIONS = 4;

/**
 * Starts an HTTP server that speaks the Upstash Redis REST protocol (`POST /` JSON command,
 * `/pipeline`, `/multi-exec`, path-style commands, `Upstash-Encoding: base64`) and executes every
 * command on a real Redis, so the unmodified `@upstash/redis` client works against local Redis.
 * Rejects with a clear error when Redis cannot be reached or the port cannot be bound.
 */
export async function startUpstashRestAdapter(
  options: UpstashRestAdapterOptions,
): Promise<UpstashRestAdapter> {
  const { redisHost, redisPort, token } = options;
  if (token === "") throw new Error("startUpstashRestAdapter: token must not be empty");
  const redisLabel = `${redisHost}:${redisPort}`;
  const expectedDigest = sha256(token);
  let closing = false;
  let started = false;

  const connect = async (): Promise<Redis> => {
    const redis = new Redis({
      host: redisHost,
      port: redisPort,
      lazyConnect: true,
      // Fail requests fast instead of queueing or silently re-sending them after a reconnect: a
      // re-sent INCR or EVAL would run twice, which a test must see as an error, not as a result.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // No retries before the first connection (startup must fail clearly) or after close().
      retryStrategy: (times) => (closing || !started ? null : Math.min(times * 100, 2000)),
    });
    // Without a listener ioredis logs every reconnect error; request failures carry the reason.
    // The last one is kept because connect() itself only says "Connection is closed".
    let lastError: unknown;
    redis.on("error", (error: unknown) => {
      lastError = error;
    });
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      const reason = messageOf(lastError ?? error);
      throw new Error(`cannot reach Redis at ${redisLabel}: ${reason}`, { cause: lastError ?? error });
    }
    return redis;
  };

  const shared = await connect();
  // Transactions need MULTI ... EXEC alone on a connection, so each one borrows a dedicated
  // connection; single commands and pipelines share `shared`, where ioredis keeps them in order.
  const idleTx: Redis[] = [];
  const allTx = new Set<Redis>();

  const withTxConnection = async <T>(run: (conn: Redis) => Promise<T>): Promise<T> => {
    let conn = idleTx.pop();
    // An idle connection may have dropped (Redis restarted) and still be reconnecting.
    while (conn && conn.status !== "ready") {
      allTx.delete(conn);
      conn.disconnect();
      conn = idleTx.pop();
    }
    conn ??= await connect();
    allTx.add(conn);
    let healthy = false;
    try {
      const result = await run(conn);
      healthy = true;
      return result;
    } finally {
      if (healthy && !closing && conn.status === "ready" && idleTx.length < MAX_IDLE_TX_CONNECTIONS) {
        idleTx.push(conn);
      } else {
        allTx.delete(conn);
        conn.disconnect();
      }
    }
  };

  const execute = (conn: Redis, command: RedisCommand): Promise<unknown> =>
    conn.callBuffer(command.name, ...command.args);

  /** Runs one transaction; the reply is what Upstash documents for `/multi-exec`. */
  const runTransaction = (commands: RedisCommand[], base64: boolean) =>
    withTxConnection(async (conn) => {
      // Everything is written at once; Redis answers MULTI, QUEUED (or a queueing error) per
      // command, then EXEC. allSettled keeps a rejection from going unhandled.
      const outcomes = await Promise.allSettled([
        execute(conn, { name: "MULTI", args: [] }),
        ...commands.map((command) => execute(conn, command)),
        execute(conn, { name: "EXEC", args: [] }),
      ]);
      const lost = outcomes.find((o) => o.status === "rejected" && !isReplyError(o.reason));
      if (lost?.status === "rejected") throw lost.reason;
      const [multi, exec] = [outcomes[0], outcomes[outcomes.length - 1]];
      if (multi?.status !== "fulfilled") throw new Error("MULTI was refused on a fresh connection");
      if (exec?.status !== "fulfilled") {
        // EXECABORT: a command was refused while queueing (unknown command, wrong arity), so
        // nothing ran; Upstash answers a discarded transaction with a single error.
        const first = outcomes.slice(1, -1).find((o) => o.status === "rejected");
        const detail = first?.status === "rejected" ? ` (${messageOf(first.reason)})` : "";
        throw new ProtocolError(`${messageOf(exec?.reason)}${detail}`);
      }
      const replies = exec.value;
      if (!Array.isArray(replies)) throw new Error(`unexpected EXEC reply: ${String(replies)}`);
      return replies.map((reply) => toItem(reply, base64));
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    if (!["GET", "HEAD", "POST", "PUT"].includes(method)) {
      return send(
        res,
        405,
        { error: `ERR method ${method} is not allowed` },
        { allow: "GET, HEAD, POST, PUT" },
      );
    }
    const url = new URL(req.url ?? "/", "http://adapter.invalid");
    const presented = bearerToken(req.headers.authorization) ?? url.searchParams.get("_token");
    if (presented === null || presented === "") {
      return send(res, 401, { error: "Unauthorized: missing token (Authorization: Bearer <token>)" });
    }
    if (!timingSafeEqual(sha256(presented), expectedDigest)) {
      return send(res, 401, { error: "Unauthorized: invalid token" });
    }
    if (req.headers["upstash-response-format"] && req.headers["upstash-response-format"] !== "json") {
      return send(res, 400, { error: "ERR only the json response format is supported by the REST adapter" });
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const body = await readBody(req);
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/pipeline" || path === "/multi-exec") {
      const commands = commandsFromJson(parseJson(body));
      if (path === "/multi-exec") return send(res, 200, await runTransaction(commands, base64));
      // Written back to back on the shared connection: in order, but not atomic, as documented.
      const outcomes = await Promise.allSettled(commands.map((command) => execute(shared, command)));
      // A lost connection fails the whole request (503) rather than pass for per-command errors:
      // the caller cannot know which commands ran, and must not read it as a Redis error.
      const lost = outcomes.find((o) => o.status === "rejected" && !isReplyError(o.reason));
      if (lost?.status === "rejected") throw lost.reason;
      return send(
        res,
        200,
        outcomes.map((o) => toItem(o.status === "fulfilled" ? o.value : o.reason, base64)),
      );
    }
    const command =
      path === "" ? commandFromJson(parseJson(body)) : commandFromPath(path, url.searchParams, body);
    const item = toItem(await execute(shared, command).catch((error: unknown) => error), base64);
    if (item instanceof Error) throw item;
    return send(res, "error" in item ? 400 : 200, item);
  };

  let syncToken = 0;
  const server = createServer((req, res) => {
    // Upstash hands out a read-your-writes token and the client echoes it back; one Redis is
    // trivially consistent, so any increasing value will do.
    res.setHeader("upstash-sync-token", String(++syncToken));
    handle(req, res).catch((error: unknown) => {
      if (error instanceof ProtocolError) return send(res, error.status, { error: error.message });
      send(res, 503, { error: `ERR Redis at ${redisLabel} is unavailable: ${messageOf(error)}` });
    });
  });

  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    closing = true;
    shared.disconnect();
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "EADDRINUSE" ? "the port is already in use" : messageOf(error);
    throw new Error(`cannot listen on ${host}:${options.port ?? 0}: ${reason}`, { cause: error });
  }
  started = true;

  const port = (server.address() as AddressInfo).port;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    token,
    port,
    close: () => {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // The client keeps HTTP connections alive; without this close() would wait for them.
        server.closeAllConnections();
        await stopped;
        await Promise.all([shared, ...allTx].map((conn) => quit(conn)));
      })();
      return closed;
    },
  };
}

/** A `{result}` or `{error}` item; a connection-level failure is returned as is, to be thrown. */
function toItem(reply: unknown, base64: boolean): { result: unknown } | { error: string } | Error {
  if (isReplyError(reply)) return { error: reply.message };
  if (reply instanceof Error) return reply;
  return { result: encodeReply(reply, base64) };
}

function isReplyError(value: unknown): value is Error {
  return value instanceof Error && value.name === "ReplyError";
}

function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim() ?? null;
}

function sha256(value: string): Buffer {
  // Hashing first gives equal-length inputs, which timingSafeEqual requires, without leaking the length.
  return createHash("sha256").update(value, "utf8").digest();
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new ProtocolError(`ERR the request body is not valid JSON: ${messageOf(error)}`);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ProtocolError(`ERR request body over ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(payload));
}

async function quit(conn: Redis): Promise<void> {
  if (conn.status === "ready") await conn.quit().catch(() => {});
  conn.disconnect();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
