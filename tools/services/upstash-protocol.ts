/**
 * Pure pieces of the Upstash REST protocol, kept apart from the HTTP server and the Redis
 * connections so they can be unit-tested without a network: turning JSON or URL commands into
 * Redis arguments, refusing commands a shared HTTP front must not run, and encoding Redis replies
 * the way the Upstash service does.
 */

/** A command ready for Redis: an upper-case name and binary-safe arguments. */
export interface RedisCommand {
  /**
   * Upper-cased on purpose: ioredis keys its reply transformers by the exact command name
   * (`hgetall` turns the reply into an object), and the upper-case spelling bypasses them so the
   * adapter always sees the raw Redis reply.
   */
  name: string;
  args: Array<string | Buffer>;
}

/** A JSON value as it appears in a `result` field. */
export type RestValue = string | number | null | RestValue[];

/** A request the adapter rejects before Redis sees it; `status` is the HTTP status to answer with. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * Builds a command from one element of a JSON body (`["SET","k","v","EX",10]`). The client
 * serialises numbers and booleans as JSON scalars; Redis only takes strings, so they are sent in
 * their string form. Anything else (objects, null, nested arrays) is a malformed request.
 */
export function commandFromJson(value: unknown): RedisCommand {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ProtocolError("ERR a command must be a non-empty JSON array of strings and numbers");
  }
  const parts = value.map((part, index) => {
    if (typeof part === "string") return part;
    if (typeof part === "number" && Number.isFinite(part)) return String(part);
    if (typeof part === "boolean") return String(part);
    throw new ProtocolError(`ERR command element ${index} must be a string or a number, got ${typeOf(part)}`);
  });
  const [name, ...args] = parts;
  return checkAllowed({ name: (name ?? "").toUpperCase(), args });
}

/** Builds the commands of a `/pipeline` or `/multi-exec` body: a non-empty array of commands. */
export function commandsFromJson(value: unknown): RedisCommand[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every(Array.isArray)) {
    throw new ProtocolError("ERR the body must be a non-empty JSON array of command arrays");
  }
  return value.map(commandFromJson);
}

/**
 * Builds a command from the path style Upstash documents: `/set/foo/bar?EX=100`, where a
 * non-empty request body is appended as the last path argument (the one way to send bytes that
 * are not UTF-8) and query parameters other than `_token` follow as `name value` pairs.
 * Empty path segments are ignored; send empty arguments with the JSON form.
 */
export function commandFromPath(pathname: string, query: URLSearchParams, body: Buffer): RedisCommand {
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const [name, ...rest] = segments.map(percentDecode);
  if (name === undefined) throw new ProtocolError("ERR empty command");
  const args: Array<string | Buffer> = [...rest];
  if (body.length > 0) args.push(body);
  for (const [key, value] of query) {
    if (key === "_token") continue;
    args.push(key);
    if (value !== "") args.push(value);
  }
  return checkAllowed({ name: name.toString("utf8").toUpperCase(), args });
}

/** Decodes `%XX` escapes into raw bytes, so a path can carry any byte sequence. */
export function percentDecode(segment: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const hex = segment[i] === "%" ? segment.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      const codePoint = segment.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...Buffer.from(char, "utf8"));
      i += char.length - 1;
    }
  }
  return Buffer.from(bytes);
}

// Commands that block a connection, switch it into a push mode, or change per-connection state.
// All HTTP requests share one Redis connection (transactions get their own), so any of these would
// stall or corrupt other requests. Upstash's REST API does not offer them either (it has its own
// SSE endpoints for SUBSCRIBE/MONITOR and `/multi-exec` for transactions).
const REFUSED: ReadonlyMap<string, string> = new Map([
  ...[
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BLMOVE",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "WAIT",
    "WAITAOF",
  ].map((name) => [name, "blocking commands are not supported by the REST adapter"] as const),
  ...["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"].map(
    (name) => [name, "pub/sub and MONITOR streams are not supported by the REST adapter"] as const,
  ),
  ...["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"].map(
    (name) => [name, "send transactions to /multi-exec instead"] as const,
  ),
  ...["SELECT", "HELLO", "AUTH", "QUIT", "RESET", "SYNC", "PSYNC", "REPLCONF"].map(
    (name) => [name, "connection-level commands are not supported by the REST adapter"] as const,
  ),
]);

function checkAllowed(command: RedisCommand): RedisCommand {
  const { name, args } = command;
  if (name === "") throw new ProtocolError("ERR empty command name");
  const reason = REFUSED.get(name);
  if (reason) throw new ProtocolError(`ERR command '${name}' is refused: ${reason}`);
  const upperArgs = args.map((arg) => arg.toString().toUpperCase());
  if ((name === "XREAD" || name === "XREADGROUP") && upperArgs.includes("BLOCK")) {
    throw new ProtocolError(`ERR ${name} with BLOCK is refused: blocking commands are not supported`);
  }
  if (name === "CLIENT" && ["REPLY", "TRACKING", "CACHING"].includes(upperArgs[0] ?? "")) {
    throw new ProtocolError(`ERR CLIENT ${upperArgs[0]} is refused: it changes the shared connection`);
  }
  return command;
}

const OK = Buffer.from("OK");

/**
 * Turns an ioredis buffer-mode reply into the JSON `result` value.
 *
 * With `Upstash-Encoding: base64` every string, at any depth, is base64 of its raw bytes, except a
 * top-level `OK`: the Upstash docs say "all strings in the response will be base64 encoded, except
 * for the OK response", and the client mirrors that (`raw === "OK" ? "OK" : base64decode(raw)` at
 * the top of each result, while strings inside arrays are always decoded). ioredis hands status
 * replies and bulk strings over as the same Buffer, so a bulk value "OK" also stays plain, which the
 * client decodes to the same "OK". Without the header strings are UTF-8, invalid bytes becoming
 * U+FFFD as Upstash documents. Integers stay JSON numbers and nil is null at any depth.
 * `topLevel` is true for `{result}` values, including each item of a pipeline or transaction.
 */
export function encodeReply(reply: unknown, base64: boolean, topLevel = true): RestValue {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64, false));
  // An error nested in an array (a Lua table holding an error reply) has no JSON form in the
  // Upstash protocol; its message is the most useful thing to pass on.
  const bytes =
    reply instanceof Error
      ? Buffer.from(reply.message)
      : Buffer.isBuffer(reply)
        ? reply
        : Buffer.from(String(reply));
  if (!base64) return bytes.toString("utf8");
  if (topLevel && bytes.equals(OK)) return "OK";
  return bytes.toString("base64");
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
