import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { EnvMap } from "./env";
import { SchemaError, SchemaLoadError } from "./errors";
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
}

/**
 * Reads a schema from a file path (or `file://` URL), an `https://` URL, or `s3://bucket/key`,
 * substitutes `${NAME}` references from `options.env`, and parses and validates it.
 *
 * @throws SchemaLoadError when the source cannot be read; SchemaError when the content is invalid.
 */
export async function loadSchema(source: string, options: LoadSchemaOptions = {}): Promise<SchemaSpec> {
  const text = await readSchemaText(source, options);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SchemaError([{ path: "", message: `${source} is not valid JSON: ${(err as Error).message}` }], {
      cause: err,
      where: source,
    });
  }
  return parseSchema(json, { env: options.env });
}

/** Reads the raw text of a schema source. @throws SchemaLoadError */
export async function readSchemaText(source: string, options: LoadSchemaOptions = {}): Promise<string> {
  if (source.startsWith("s3://")) return readS3(source, options.s3 ?? defaultS3Fetcher);
  if (/^https?:\/\//i.test(source)) return readHttp(source, options.fetch ?? globalThis.fetch);
  const path = source.startsWith("file://") ? fileURLToPath(source) : source;
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT" ? `schema file ${path} does not exist` : `cannot read schema file ${path}`;
    throw new SchemaLoadError(message, {
      cause: err,
      where: path,
      fix: "pass --schema (or set SCHEMA) to the path of your schema.json",
    });
  }
}

async function readHttp(source: string, fetcher: typeof fetch): Promise<string> {
  const url = new URL(source);
  // Plain http would let anyone on the path rewrite the schema; allow it only on this machine.
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol === "http:" && !loopback) {
    throw new SchemaLoadError(`refusing to load the schema over plain http from ${url.host}`, {
      where: source,
      fix: "serve the schema over https://",
    });
  }
  let response: Response;
  try {
    response = await fetcher(source, { redirect: "follow" });
  } catch (err) {
    throw new SchemaLoadError(`cannot fetch the schema from ${source}: ${(err as Error).message}`, {
      cause: err,
      where: source,
      retryable: true,
    });
  }
  if (!response.ok) {
    throw new SchemaLoadError(`fetching the schema from ${source} returned HTTP ${response.status}`, {
      where: source,
      retryable: response.status >= 500 || response.status === 429,
      fix: response.status === 404 ? "check the URL (SCHEMA_URL)" : undefined,
    });
  }
  return response.text();
}

async function readS3(source: string, fetcher: S3TextFetcher): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
  if (!match?.[1] || !match[2]) {
    throw new SchemaLoadError(`"${source}" is not an S3 URL`, {
      where: source,
      fix: "write s3://bucket/key",
    });
  }
  try {
    return await fetcher(match[1], match[2]);
  } catch (err) {
    if (err instanceof SchemaLoadError) throw err;
    throw new SchemaLoadError(`cannot read the schema from ${source}: ${(err as Error).message}`, {
      cause: err,
      where: source,
      retryable: true,
      fix: "check the bucket, key and that the role may s3:GetObject it",
    });
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
