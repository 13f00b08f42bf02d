import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../lib/errors";
import {
  createWebhookSink,
  type FetchLike,
  parseRetryAfter,
  SinkError,
  type SinkOperation,
  signWebhookBody,
  verifyWebhookSignature,
  type WebhookSinkConfig,
} from "../../../../lib/sink";
import { FakeRuntime } from "../search/fakes";

const SECRET = "s3cret-s3cret-s3cret";
const URL_WITH_TOKEN = "https://hooks.example.com/in/tok-abcdef123456?key=qwerty987654";

interface Call {
  body: string;
  headers: Record<string, string>;
}

/** A scripted receiver: answers in order, then 200; records what it got. */
function receiver(...answers: (Response | Error | ((call: Call) => Response))[]) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (_url, init) => {
    const call = { body: String(init.body), headers: init.headers as Record<string, string> };
    calls.push(call);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    if (typeof next === "function") return next(call);
    return next ?? new Response(null, { status: 200 });
  };
  return { fetch, calls };
}

function sink(fetch: FetchLike, runtime = new FakeRuntime(), config: Partial<WebhookSinkConfig> = {}) {
  return createWebhookSink(
    { engine: "webhook", url: URL_WITH_TOKEN, secret: SECRET, ...config },
    { fetch, runtime },
  );
}

const put = (id: string, version = 7n, source: Record<string, unknown> = { title: id }): SinkOperation => ({
  kind: "index",
  index: "books",
  id,
  version,
  source,
  ref: [id],
});

const operationsOf = (call: Call | undefined) =>
  (JSON.parse(call?.body ?? "{}") as { operations: { id: string }[] }).operations.map((o) => o.id);

describe("webhook body and signature", () => {
  it("posts {v:1, operations} with exact versions, signed over timestamp and body", async () => {
    const r = receiver();
    const runtime = new FakeRuntime();
    const big = 2n ** 62n + 1n;
    const result = await sink(r.fetch, runtime).write([
      put("1", big, { n: 5n, title: "Matilda" }),
      { kind: "delete", index: "books", id: "2", version: 9n },
      { kind: "truncate", index: "books", version: 10n },
    ]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok"]);
    expect(result.stats).toMatchObject({ indexed: 1, deleted: 2, requests: 1 });
    const call = r.calls[0] as Call;
    expect(call.body).toBe(
      `{"v":1,"operations":[{"op":"index","index":"books","id":"1","version":"${big}","source":{"n":5,"title":"Matilda"}},` +
        `{"op":"delete","index":"books","id":"2","version":"9"},{"op":"truncate","index":"books","version":"10"}]}`,
    );
    const header = call.headers["x-slotsync-signature"];
    const delivery = call.headers["x-slotsync-delivery"] ?? "";
    expect(header).toBe(signWebhookBody(SECRET, Math.floor(runtime.time / 1000), delivery, call.body));
    const now = Math.floor(runtime.time / 1000);
    expect(verifyWebhookSignature(SECRET, header, delivery, call.body, { nowSeconds: now })).toBe(true);
    expect(
      verifyWebhookSignature("another-secret-000", header, delivery, call.body, { nowSeconds: now }),
    ).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, delivery, `${call.body} `, { nowSeconds: now })).toBe(
      false,
    );
    // The delivery id is signed: another id (to slip a repeat past de-duplication) fails.
    expect(verifyWebhookSignature(SECRET, header, "another-delivery", call.body, { nowSeconds: now })).toBe(
      false,
    );
    expect(verifyWebhookSignature(SECRET, header, undefined, call.body, { nowSeconds: now })).toBe(false);
    // A delivery replayed ten minutes later is refused.
    expect(verifyWebhookSignature(SECRET, header, delivery, call.body, { nowSeconds: now + 600 })).toBe(
      false,
    );
    expect(header).toMatch(/^t=\d+,v2=[0-9a-f]{64}$/);
    expect(call.headers["x-slotsync-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("splits batches by count and by bytes, every operation in exactly one request", async () => {
    const r = receiver();
    const ops = Array.from({ length: 7 }, (_, i) => put(String(i)));
    await sink(r.fetch, new FakeRuntime(), { batchSize: 3 }).write(ops);
    expect(r.calls.map(operationsOf)).toEqual([["0", "1", "2"], ["3", "4", "5"], ["6"]]);

    const bytes = receiver();
    const padded = Array.from({ length: 4 }, (_, i) => put(String(i), 1n, { pad: "x".repeat(600) }));
    await sink(bytes.fetch, new FakeRuntime(), { batchBytes: 1400 }).write(padded);
    expect(bytes.calls.map(operationsOf)).toEqual([
      ["0", "1"],
      ["2", "3"],
    ]);
    for (const call of bytes.calls) expect(Buffer.byteLength(call.body)).toBeLessThanOrEqual(1400);
  });
});

describe("webhook answers", () => {
  it("retries 503 and 429, waiting at least Retry-After, keeping the delivery id", async () => {
    const r = receiver(
      new Response("busy", { status: 503 }),
      new Response("slow down", { status: 429, headers: { "retry-after": "7" } }),
    );
    const runtime = new FakeRuntime(0);
    const result = await sink(r.fetch, runtime).write([put("1")]);
    expect(result.outcomes[0]).toMatchObject({ status: "ok", attempts: 3 });
    expect(runtime.sleeps).toEqual([0, 7000]);
    expect(new Set(r.calls.map((c) => c.headers["x-slotsync-delivery"])).size).toBe(1);
    expect(result.stats.retried).toBe(2);
  });

  it("a network error is retried; when the retries run out the batch is retryable with the cause", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const r = receiver(refused, refused, refused);
    const result = await sink(r.fetch, new FakeRuntime(), { maxRetries: 2 }).write([put("1"), put("2")]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["retryable", "retryable"]);
    expect(result.outcomes[0]?.reason).toBe(
      "cannot reach the webhook receiver at hooks.example.com: ECONNREFUSED (sent 3 times; no retries left)",
    );
  });

  it("a Retry-After past the deadline ends the write at once, retryable, without sleeping", async () => {
    const r = receiver(new Response(null, { status: 429, headers: { "retry-after": "120" } }));
    const runtime = new FakeRuntime();
    const result = await sink(r.fetch, runtime).write([put("1")], { deadline: runtime.time + 30_000 });
    expect(result.outcomes[0]?.status).toBe("retryable");
    expect(result.outcomes[0]?.reason).toContain("asked to retry after 120 s, past the write deadline");
    expect(runtime.sleeps).toEqual([]);
    expect(r.calls).toHaveLength(1);
  });

  it("nothing is sent when the deadline has already passed", async () => {
    const r = receiver();
    const runtime = new FakeRuntime();
    const result = await sink(r.fetch, runtime).write([put("1")], { deadline: runtime.time - 1 });
    expect(result.outcomes[0]).toMatchObject({ status: "retryable", errorType: "deadline", attempts: 0 });
    expect(r.calls).toHaveLength(0);
  });

  it("a 400 is bisected: only the refused operation is rejected, with the receiver's reason", async () => {
    const refuse = (call: Call) =>
      operationsOf(call).includes("bad")
        ? Response.json({ error: "field price must be a number" }, { status: 400 })
        : new Response(null, { status: 204 });
    const r = receiver(refuse, refuse, refuse, refuse, refuse, refuse);
    const result = await sink(r.fetch).write([put("a"), put("bad"), put("c"), put("d")]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "rejected", "ok", "ok"]);
    expect(result.outcomes[1]).toMatchObject({
      httpStatus: 400,
      reason: "the webhook receiver refused it with HTTP 400: field price must be a number",
    });
  });

  it("401 throws a SinkError naming WEBHOOK_URL's host only, never the token or the secret", async () => {
    const r = receiver(new Response(`bad signature for ${URL_WITH_TOKEN} with ${SECRET}`, { status: 401 }));
    const error = await sink(r.fetch)
      .write([put("1")])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkError);
    const text = `${(error as SinkError).message} ${(error as SinkError).fix}`;
    expect(text).toContain("hooks.example.com");
    expect(text).not.toContain("tok-abcdef123456");
    expect(text).not.toContain(SECRET);
    expect((error as SinkError).httpStatus).toBe(401);
  });

  it("an invalid operation is rejected without being sent", async () => {
    const r = receiver();
    const result = await sink(r.fetch).write([{ ...put("1"), version: -1n }, put("2")]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["rejected", "ok"]);
    expect(operationsOf(r.calls[0])).toEqual(["2"]);
  });
});

describe("webhook config and helpers", () => {
  it("refuses a short secret and a URL with credentials, without echoing them", () => {
    const bad = () =>
      createWebhookSink({ engine: "webhook", url: "https://user:pw-123456@example.com/", secret: "short" });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/sink.url: must not contain credentials.*sink.secret: must be at least 16/);
    expect(bad).not.toThrow(/pw-123456|short/);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("3", 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
