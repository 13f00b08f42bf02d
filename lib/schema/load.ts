import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { isLoopbackHost, redactText, redactUrl } from "../security";
import type { EnvMap } from "./env";
import { SchemaError, SchemaLoadError } from "./errors";
import { parseJsonText } from "./json-text";
import { parseSchema } from "./parse";
import type { SchemaSpec } from "./types";

/** Reads `s3://bucket/key` objects; inject one in tests or to reuse an existing S3 client. */
export type S3TextFetcher = (bucket: string, key: string) => Promise<string>;

export interface LoadSchemaOptions {
  /** Values for `${NAME}` references in the schema's string values. */
  env?: EnvMap;
  /** HTTP client for `https://` sources; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Reader for `s3://` sources; defaults to one that lazily imports `@aws-sdk/client-s3`. */
  s3?: S3TextFetcher;
  /** The largest schema read from a URL, in bytes (default 10 MiB). */
  maxBytes?: number;
  /** How long fetching a schema URL may take, connecting and reading the whole body (default 30 s). */
  timeoutMs?: number;
}

/** A schema larger than this is not a schema; reading on would only spend memory. */
export const MAX_SCHEMA_BYTES = 10 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

/**
 * Reads a schema from a file path (or `file://` URL), an `https://` URL, or `s3://bucket/key`,
 * substitutes `${NAME}` references from `options.env`, and parses and validates it.
 *
 * @throws SchemaLoadError when the source cannot be read; SchemaError when the content is invalid.
 */
export async function loadSchema(source: string, options: LoadSchemaOptions = {}): Promise<SchemaSpec> {
  const text = await readSchemaText(source, options);
  const where = describeSource(source);
  const parsed = parseJsonText(text, where);
  if (parsed.problem) throw new SchemaError([parsed.problem], { where });
  return parseSchema(parsed.json, { env: options.env });
}

/** A schema source fit for output: a path as given, a URL without credentials or query. */
export function describeSource(source: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !source.startsWith("file://")
    ? redactUrl(source)
    : source;
}

/** Reads the raw text of a schema source. @throws SchemaLoadError */
export async function readSchemaText(source: string, options: LoadSchemaOptions = {}): Promise<string> {
  if (source.startsWith("s3://")) return readS3(source, options.s3 ?? defaultS3Fetcher);
  if (/^https?:\/\//i.test(source)) return readHttp(source, options);
  const path = source.startsWith("file://") ? fileURLToPath(source) : source;
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason: Record<string, string> = {
      ENOENT: "does not exist",
      EISDIR: "is a directory",
      EACCES: "may not be read by this user",
      EPERM: "may not be read by this user",
    };
    const fix: Record<string, string> = {
      EISDIR: "pass the schema.json file inside it: --schema <dir>/schema.json (or SCHEMA)",
      EACCES: "give this user read permission on the file, or copy it somewhere readable",
      EPERM: "give this user read permission on the file, or copy it somewhere readable",
    };
    const what = code ? reason[code] : undefined;
    throw new SchemaLoadError(
      what ? `schema file ${path} ${what}` : `cannot read schema file ${path} (${code ?? "error"})`,
      {
        cause: err,
        where: path,
        fix: (code && fix[code]) || "pass --schema (or set SCHEMA) to the path of your schema.json",
      },
    );
  }
}

/**
 * Plain http would let anyone on the path rewrite the schema; it is allowed only on this machine.
 * Checked for the first URL and for every redirect, so a redirect cannot get around it.
 */
function checkHttpUrl(url: URL, shown: string): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return;
  throw new SchemaLoadError(
    url.protocol === "http:"
      ? `refusing to load the schema over plain http from ${url.host}`
      : `refusing to load the schema from a ${url.protocol} URL`,
    { where: shown, fix: "serve the schema over https://" },
  );
}

async function readHttp(source: string, options: LoadSchemaOptions): Promise<string> {
  const fetcher = options.fetch ?? globalThis.fetch;
  const maxBytes = options.maxBytes ?? MAX_SCHEMA_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // One deadline for everything: connecting, each redirect, and the whole body.
  const signal = AbortSignal.timeout(timeoutMs);
  let url = new URL(source);
  let shown = redactUrl(source);
  checkHttpUrl(url, shown);
  // fetch refuses URLs with a user and password; send them as Basic auth, to the first origin only.
  const origin = url.origin;
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    url.username = "";
    url.password = "";
  }
  let response: Response;
  for (let redirects = 0; ; redirects++) {
    try {
      const sameOrigin = url.origin === origin;
      response = await fetcher(url.href, { redirect: "manual", signal, headers: sameOrigin ? headers : {} });
    } catch (err) {
      throw fetchError(err, shown, signal, timeoutMs);
    }
    if (response.status < 300 || response.status >= 400) break;
    const location = response.headers.get("location");
    await response.body?.cancel().catch(() => undefined);
    if (!location) break;
    if (redirects >= MAX_REDIRECTS) {
      throw new SchemaLoadError(
        `fetching the schema from ${shown} redirected more than ${MAX_REDIRECTS} times`,
        {
          where: shown,
          fix: "point SCHEMA_URL at the schema's final address",
        },
      );
    }
    const next = new URL(location, url);
    const nextShown = redactUrl(next.href);
    try {
      checkHttpUrl(next, nextShown);
    } catch (error) {
      throw new SchemaLoadError(
        `${shown} redirects to ${nextShown}, which is refused: ${(error as Error).message}`,
        {
          where: shown,
          fix: "point SCHEMA_URL at an https:// address that serves the schema directly",
        },
      );
    }
    url = next;
    shown = nextShown;
  }
  if (response.status >= 300) {
    throw new SchemaLoadError(`fetching the schema from ${shown} returned HTTP ${response.status}`, {
      where: shown,
      retryable: response.status >= 500 || response.status === 429,
      fix: response.status === 404 || response.status === 403 ? "check the URL (SCHEMA_URL)" : undefined,
    });
  }
  const tooLarge = () =>
    new SchemaLoadError(`the schema at ${shown} is larger than ${maxBytes} bytes`, {
      where: shown,
      fix: "check that SCHEMA_URL names the schema.json; a schema is a few kilobytes",
    });
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  try {
    return await readLimited(response, maxBytes, tooLarge);
  } catch (err) {
    if (err instanceof SchemaLoadError) throw err;
    throw fetchError(err, shown, signal, timeoutMs);
  }
}

/** The body as UTF-8 text, refusing it once it passes `maxBytes`. */
async function readLimited(response: Response, maxBytes: number, tooLarge: () => Error): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function fetchError(err: unknown, shown: string, signal: AbortSignal, timeoutMs: number): SchemaLoadError {
  if (signal.aborted) {
    return new SchemaLoadError(`fetching the schema from ${shown} took longer than ${timeoutMs / 1000} s`, {
      cause: err,
      where: shown,
      retryable: true,
      fix: "check that the server answers and sends the whole schema",
    });
  }
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const reason = typeof cause?.code === "string" ? cause.code : cause?.message;
  return new SchemaLoadError(
    `cannot fetch the schema from ${shown}${typeof reason === "string" && reason ? ` (${redactText(reason)})` : ""}`,
    { cause: err, where: shown, retryable: true },
  );
}

async function readS3(source: string, fetcher: S3TextFetcher): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
  if (!match?.[1] || !match[2]) {
    throw new SchemaLoadError(`"${describeSource(source)}" is not an S3 URL`, {
      where: describeSource(source),
      fix: "write s3://bucket/key",
    });
  }
  try {
    return await fetcher(match[1], match[2]);
  } catch (err) {
    if (err instanceof SchemaLoadError) throw err;
    throw new SchemaLoadError(
      `cannot read the schema from ${source}: ${redactText((err as Error).message)}`,
      {
        cause: err,
        where: source,
        retryable: true,
        fix: "check the bucket, key and that the role may s3:GetObject it",
      },
    );
  }
}

/** Minimal shape of `@aws-sdk/client-s3` used here, so the library has no compile-time dependency on it. */
interface S3Module {
  S3Client: new (
    config: object,
  ) => { send(command: unknown): Promise<{ Body?: { transformToString(): Promise<string> } }> };
  GetObjectCommand: new (input: { Bucket: string; Key: string }) => unknown;
}

/** Reads an S3 object with `@aws-sdk/client-s3`, imported only when an `s3://` schema is used. */
export const defaultS3Fetcher: S3TextFetcher = async (bucket, key) => {
  let sdk: S3Module;
  try {
    // A variable specifier keeps bundlers and tsc from requiring the package when it is not installed.
    const specifier = "@aws-sdk/client-s3";
    sdk = (await import(specifier)) as S3Module;
  } catch (err) {
    throw new SchemaLoadError("loading a schema from S3 needs the package @aws-sdk/client-s3", {
      cause: err,
      where: `s3://${bucket}/${key}`,
      fix: "install @aws-sdk/client-s3, or load the schema from a file or https URL",
    });
  }
  const client = new sdk.S3Client({});
  const result = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!result.Body) throw new Error("the object has no body");
  return result.Body.transformToString();
};
