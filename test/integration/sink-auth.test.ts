import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { gunzipSync } from "node:zlib";
import { Client as EsClient } from "@elastic/elasticsearch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSink, type SinkConfig, SinkError, type SinkOperation } from "../../lib/sink";
import { getServices } from "../support/services";

// Credentials: Elasticsearch API keys and basic auth on the real cluster, secrets kept out of
// errors; OpenSearch SigV4 signing checked on a loopback server that records what it receives.

const SUFFIX = randomBytes(4).toString("hex");
/** What this local Elasticsearch (no analysis-common module) answers when asked to store an API key. */
const MISSING_ANALYSIS_COMMON = "Unknown filter type [pattern_capture]";

/** Everything an error could show in a log line or a debugger: message, fix, fields, cause chain. */
function everything(error: unknown): string {
  const e = error as SinkError;
  return [e.message, e.fix, e.toLine?.(), inspect(e, { depth: 10 }), JSON.stringify(e)].join("\n");
}

const op = (index: string, id: string): SinkOperation => ({
  kind: "index",
  index,
  id,
  version: 1n,
  source: { id },
});

describe("Elasticsearch credentials", () => {
  const index = `slotsync-sinka-es-${SUFFIX}`;
  let admin: EsClient;
  const apiKeyIds: string[] = [];
  const es = () => getServices().elasticsearch;
  const basic = (password: string): SinkConfig => ({
    engine: "elasticsearch",
    node: es().url,
    auth: { type: "basic", username: es().username, password },
  });

  beforeAll(async () => {
    admin = new EsClient({ node: es().url, auth: { username: es().username, password: es().password } });
    await admin.indices.create({ index });
  });

  afterAll(async () => {
    if (!admin) return;
    if (apiKeyIds.length > 0) await admin.security.invalidateApiKey({ ids: apiKeyIds });
    await admin.indices.delete({ index, ignore_unavailable: true });
    await admin.close();
  });

  it("writes with basic auth, and refuses a wrong password without showing it", async () => {
    const good = createSink(basic(es().password));
    const wrongPassword = `wrong-${randomBytes(8).toString("hex")}`;
    const bad = createSink(basic(wrongPassword));
    try {
      expect((await good.write([op(index, "basic")])).outcomes[0]?.status).toBe("ok");
      const error = await bad.write([op(index, "nope")]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect(error).toMatchObject({ httpStatus: 401, retryable: false, errorType: "security_exception" });
      expect(everything(error)).not.toContain(wrongPassword);
      expect(everything(error)).not.toContain(
        Buffer.from(`${es().username}:${wrongPassword}`).toString("base64"),
      );
      await expect(bad.count(index)).rejects.toMatchObject({ httpStatus: 401 });
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it("refuses a wrong API key with a SinkError that does not contain the key", async () => {
    const secret = `not-the-key-${randomBytes(8).toString("hex")}`;
    const byPair = createSink({
      engine: "elasticsearch",
      node: es().url,
      auth: { type: "apiKey", id: "kid123", secret },
    });
    const encoded = Buffer.from(`kid123:${secret}`).toString("base64");
    const byEncoded = createSink({
      engine: "elasticsearch",
      node: es().url,
      auth: { type: "apiKey", encoded },
    });
    try {
      for (const sink of [byPair, byEncoded]) {
        const error = await sink.write([op(index, "k")]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SinkError);
        expect(error).toMatchObject({ httpStatus: 401, retryable: false });
        expect((error as SinkError).fix).toMatch(/API key/);
        expect(everything(error)).not.toContain(secret);
        expect(everything(error)).not.toContain(encoded);
      }
    } finally {
      await byPair.close();
      await byEncoded.close();
    }
  });

  it("writes with an API key created through basic auth", async (ctx) => {
    const created = await admin.security
      .createApiKey({ name: `slotsync-sink-${SUFFIX}`, expiration: "1h" })
      .catch((e: unknown) => e as Error);
    if (created instanceof Error && JSON.stringify(created).includes(MISSING_ANALYSIS_COMMON)) {
      // API keys live in the .security index, whose mapping needs analysis-common; the local
      // integ-test-zip distribution lacks it. Only this exact error skips; anything else fails.
      ctx.skip(`local Elasticsearch cannot store API keys: ${MISSING_ANALYSIS_COMMON}`);
    }
    if (created instanceof Error) throw created;
    apiKeyIds.push(created.id);
    for (const auth of [
      { type: "apiKey" as const, id: created.id, secret: created.api_key },
      { type: "apiKey" as const, encoded: created.encoded },
    ]) {
      const sink = createSink({ engine: "elasticsearch", node: es().url, auth });
      try {
        expect((await sink.write([op(index, `key-${"id" in auth}`)])).outcomes[0]?.status).toBe("ok");
      } finally {
        await sink.close();
      }
    }
  });

  it("tells an Elasticsearch sink pointed at OpenSearch what is wrong", async () => {
    const sink = createSink({ engine: "elasticsearch", node: getServices().opensearch.url });
    try {
      await expect(sink.write([op(index, "x")])).rejects.toMatchObject({
        name: "SinkError",
        // OpenSearch refuses the client's `compatible-with=8` media type with 406 before any
        // product check could run.
        httpStatus: 406,
        fix: expect.stringContaining("OPENSEARCH=true"),
      });
    } finally {
      await sink.close();
    }
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe("OpenSearch credentials (loopback server)", () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let answer401 = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        res.setHeader("content-type", "application/json");
        if (answer401) {
          res.statusCode = 401;
          res.end(
            JSON.stringify({ error: { type: "security_exception", reason: "Unauthorized" }, status: 401 }),
          );
          return;
        }
        const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString();
        const items = text
          .split("\n")
          .filter((l) => l.startsWith('{"index"') || l.startsWith('{"delete"'))
          .map(() => ({ index: { status: 201 } }));
        res.end(JSON.stringify({ errors: false, items }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it.each([false, true])("signs bulk requests with SigV4 for aoss (compression %s)", async (compression) => {
    received.length = 0;
    const sink = createSink({
      engine: "opensearch",
      node: base,
      compression,
      auth: {
        type: "awsSigV4",
        region: "eu-west-1",
        service: "aoss",
        credentials: async () => ({
          accessKeyId: "AKIDEXAMPLE",
          secretAccessKey: "wJalrXUtnFEMI/K7MDENG",
          sessionToken: "tok",
        }),
      },
    });
    try {
      const { outcomes } = await sink.write([op("books", "1"), op("books", "2")]);
      expect(outcomes.map((o) => o.status)).toEqual(["ok", "ok"]);
      const request = received.find((r) => r.url.startsWith("/_bulk"));
      expect(request?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aoss\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
      );
      expect(request?.headers["x-amz-security-token"]).toBe("tok");
      // The signed payload hash is that of the bytes that actually went over the wire.
      expect(request?.headers["x-amz-content-sha256"]).toBe(
        createHash("sha256")
          .update(request?.body ?? "")
          .digest("hex"),
      );
      expect(request?.headers["content-encoding"]).toBe(compression ? "gzip" : undefined);
    } finally {
      await sink.close();
    }
  });

  it("refuses a wrong password without showing it", async () => {
    answer401 = true;
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const sink = createSink({
      engine: "opensearch",
      node: base,
      auth: { type: "basic", username: "admin", password },
    });
    try {
      const error = await sink.write([op("books", "1")]).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "SinkError", httpStatus: 401 });
      expect(everything(error)).not.toContain(password);
    } finally {
      answer401 = false;
      await sink.close();
    }
  });
});
