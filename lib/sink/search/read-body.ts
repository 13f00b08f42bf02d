import type { Readable } from "node:stream";
import { gunzipSync, inflateSync } from "node:zlib";

/**
 * Reads a response body the client handed over as a stream (`asStream`), undoing gzip/deflate
 * (the clients only decompress the bodies they parse themselves).
 */
export async function readBodyText(body: unknown, contentEncoding: unknown): Promise<string> {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") return body;
  let buffer: Buffer;
  if (Buffer.isBuffer(body)) {
    buffer = body;
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of body as Readable) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    }
    buffer = Buffer.concat(chunks);
  }
  const encoding = String(contentEncoding ?? "").toLowerCase();
  if (encoding.includes("gzip")) buffer = gunzipSync(buffer);
  else if (encoding.includes("deflate")) buffer = inflateSync(buffer);
  return buffer.toString("utf8");
}
