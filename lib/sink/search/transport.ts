import { SinkError } from "../errors";
import type { Engine } from "../types";
import { readBodyText } from "./read-body";

/**
 * The little each engine adapter must provide: send one HTTP request through its official client
 * and hand back status and body. Everything else (bulk encoding, retries, classification, index
 * management) is shared, so both engines behave the same and unit tests can use a fake.
 */
export interface EngineTransport {
  readonly engine: Engine;
  /** Strings that must never appear in an error message: passwords, API keys, tokens. */
  readonly secrets: readonly string[];
  /**
   * Sends one request. Resolves with the response for every HTTP status (the caller decides
   * what a 4xx or 5xx means); rejects with `TransportFailure` only when no response came.
   */
  request(request: EngineRequest): Promise<EngineResponse>;
  close(): Promise<void>;
}

/** One HTTP request to the engine. */
export interface EngineRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  /** Path with every name already URL-encoded, e.g. `/_bulk` or `/my-index/_refresh`. */
  path: string;
  querystring?: Record<string, string | number | boolean>;
  /** A JSON body (serialized by the client). */
  body?: unknown;
  /** A ready `_bulk` body, sent as is: the client never re-serializes (and rounds) it. */
  ndjson?: string;
  /** Timeout of this request alone. */
  timeoutMs: number;
  /**
   * Return the body as text in `raw` instead of parsed, for responses that carry 64-bit
   * versions the default JSON parse would round.
   */
  raw?: boolean;
}

/** The engine's answer. */
export interface EngineResponse {
  status: number;
  /** Parsed JSON body (undefined when `raw` was asked for, or for HEAD). */
  body: unknown;
  /** The body as text, when `raw` was asked for. */
  raw?: string;
}

/** No HTTP response: the request timed out, the connection failed, or the client gave up. */
export class TransportFailure extends Error {
  constructor(
    readonly kind: "timeout" | "network",
    message: string,
  ) {
    super(message);
    this.name = "TransportFailure";
  }
}

/**
 * The `TransportFailure` for an error the Elasticsearch or OpenSearch client threw when no answer
 * came (both clients name these errors alike), or undefined for any other error.
 */
export function clientTransportFailure(name: string, message: string): TransportFailure | undefined {
  switch (name) {
    case "TimeoutError":
      return new TransportFailure("timeout", `request timed out (${message})`);
    case "ConnectionError":
    case "NoLivingConnectionsError":
    case "DeserializationError":
    case "RequestAbortedError":
      return new TransportFailure("network", message);
    default:
      return undefined;
  }
}

/** Every 4xx and 5xx status, for the clients' `ignore` option: we classify statuses ourselves. */
export const ALL_ERROR_STATUSES: number[] = Array.from({ length: 200 }, (_, i) => 400 + i);

/** URL-encodes an index or alias name for a path, refusing patterns and lists. */
export function pathName(name: string): string {
  // A pattern or list in a delete or alias call could touch indices we do not own.
  if (!name || /[*,\s]/.test(name) || name === "_all" || name.startsWith("_")) {
    throw new SinkError(`"${name}" is not a single index or alias name`, {
      fix: "name one index or alias exactly; patterns, lists and _all are refused on purpose",
    });
  }
  return encodeURIComponent(name);
}

/** What both official clients' `transport.request` resolve with, for the options used here. */
export interface ClientResult {
  statusCode?: number | null;
  body: unknown;
  headers?: Record<string, unknown> | null;
}

/** One client's `transport.request`, narrowed to what `sendThroughClient` passes. */
export type ClientSend = (
  params: Record<string, unknown>,
  options: Record<string, unknown>,
) => Promise<ClientResult>;

/**
 * Sends one request through an official client's transport, the same way for both engines: every
 * status comes back (none throws), the client's own retries are off, a ready `_bulk` body is sent
 * as is (a string is neither re-serialized nor, for SigV4, signed differently), and a `raw`
 * request reads the body as text. Failures without a response go through the engine's `translate`.
 */
export async function sendThroughClient(
  send: ClientSend,
  request: EngineRequest,
  translate: (err: unknown) => Error,
  extraOptions: Record<string, unknown> = {},
): Promise<EngineResponse> {
  try {
    const result = await send(
      {
        method: request.method,
        path: request.path,
        ...(request.querystring ? { querystring: request.querystring } : {}),
        ...(request.body !== undefined ? { body: request.body } : {}),
        ...(request.ndjson !== undefined ? { bulkBody: request.ndjson } : {}),
      },
      {
        ...extraOptions,
        ignore: ALL_ERROR_STATUSES,
        requestTimeout: request.timeoutMs,
        maxRetries: 0,
        ...(request.raw ? { asStream: true } : {}),
      },
    );
    if (request.raw) {
      const raw = await readBodyText(result.body, result.headers?.["content-encoding"]);
      return { status: result.statusCode ?? 0, body: undefined, raw };
    }
    return { status: result.statusCode ?? 0, body: result.body };
  } catch (err) {
    throw translate(err);
  }
}
