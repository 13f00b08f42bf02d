import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startUpstashRestAdapter, type UpstashRestAdapter } from "../../tools/services/upstash-rest";
import { getServices } from "../support/services";

// The real @upstash/redis client with its default settings (base64 responses, auto-pipelining,
// read-your-writes) against the adapter over the real Redis; `direct` reads Redis behind its back
// so each test checks what was really stored, not only what the adapter reports.

const PREFIX = `upstash-rest-test:${randomUUID()}:`;
const key = (name: string) => `${PREFIX}${name}`;

let adapter: UpstashRestAdapter;
let redis: Redis;
let direct: IORedis;

beforeAll(async () => {
  const { host, port } = getServices().redis;
  adapter = await startUpstashRestAdapter({
    redisHost: host,
    redisPort: port,
    token: randomBytes(24).toString("base64url"),
    port: 0,
  });
  redis = new Redis({ url: adapter.url, token: adapter.token });
  direct = new IORedis({ host, port, lazyConnect: true });
  await direct.connect();
});

afterAll(async () => {
  if (direct) {
    const keys = await direct.keys(`${PREFIX}*`);
    if (keys.length > 0) await direct.del(...keys);
    await direct.quit();
  }
  await adapter?.close();
});

/** A raw request, for what the client cannot send: path-style commands, missing tokens, bytes. */
function rest(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const { token = adapter.token, headers, ...others } = init;
  return fetch(`${adapter.url}${path}`, {
    method: "POST",
    ...others,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
}

describe("strings through the default client", () => {
  it("round-trips plain, unicode and accidentally-base64 strings byte for byte", async () => {
    const values = {
      plain: "hello",
      unicode: "zażółć gęślą jaźń — 日本語 🐄",
      base64ish: "dGVzdA==",
      ok: "OK",
      spaces: "  padded\nnewline\t",
    };
    for (const [name, value] of Object.entries(values)) {
      expect(await redis.set(key(`s:${name}`), value)).toBe("OK");
    }
    for (const [name, value] of Object.entries(values)) {
      expect(await redis.get(key(`s:${name}`))).toBe(value);
      expect(await direct.getBuffer(key(`s:${name}`))).toEqual(Buffer.from(value, "utf8"));
    }
  });

  it("stores objects as JSON and returns what the client deserialises", async () => {
    await redis.set(key("json:obj"), { a: 1, b: [true, null, "x"] });
    expect(await direct.get(key("json:obj"))).toBe('{"a":1,"b":[true,null,"x"]}');
    expect(await redis.get(key("json:obj"))).toEqual({ a: 1, b: [true, null, "x"] });

    // A string that looks like JSON comes back parsed: the client's automatic deserialisation.
    await redis.set(key("json:str"), '{"c":2}');
    expect(await direct.get(key("json:str"))).toBe('{"c":2}');
    expect(await redis.get(key("json:str"))).toEqual({ c: 2 });
    await redis.set(key("json:num"), "123");
    expect(await redis.get(key("json:num"))).toBe(123);
  });

  it("also works without base64 responses", async () => {
    const plain = new Redis({ url: adapter.url, token: adapter.token, responseEncoding: false });
    await plain.set(key("plain"), "zażółć 🐄 dGVzdA==");
    expect(await plain.get(key("plain"))).toBe("zażółć 🐄 dGVzdA==");
    expect(await redis.get(key("plain"))).toBe("zażółć 🐄 dGVzdA==");
  });
});

describe("data types", () => {
  it("sends numbers as strings and returns integer replies as numbers", async () => {
    await redis.set(key("n"), 41);
    expect(await direct.get(key("n"))).toBe("41");
    expect(await redis.incr(key("n"))).toBe(42);
    expect(await redis.incrby(key("n"), 8)).toBe(50);
    expect(await redis.incrbyfloat(key("n"), 0.5)).toBe(50.5);
    expect(await redis.get(key("n"))).toBe(50.5);
    expect(await redis.get(key("missing"))).toBeNull();
  });

  it("returns hashes as objects", async () => {
    expect(await redis.hset(key("h"), { name: "ada", n: 3, nested: { x: 1 } })).toBe(3);
    expect(await direct.hget(key("h"), "nested")).toBe('{"x":1}');
    expect(await redis.hget(key("h"), "name")).toBe("ada");
    expect(await redis.hgetall(key("h"))).toEqual({ name: "ada", n: 3, nested: { x: 1 } });
    expect(await redis.hgetall(key("h-missing"))).toBeNull();
  });

  it("returns lists and sorted sets as arrays", async () => {
    expect(await redis.rpush(key("l"), "a", "b", "🐄")).toBe(3);
    expect(await redis.lrange(key("l"), 0, -1)).toEqual(["a", "b", "🐄"]);
    expect(await redis.zadd(key("z"), { score: 2, member: "y" }, { score: 1.5, member: "x" })).toBe(2);
    expect(await redis.zrange(key("z"), 0, -1)).toEqual(["x", "y"]);
    expect(await redis.zrange(key("z"), 0, -1, { withScores: true })).toEqual(["x", 1.5, "y", 2]);
    expect(await direct.zscore(key("z"), "x")).toBe("1.5");
  });

  it("deletes and counts existing keys", async () => {
    await redis.set(key("d1"), "1");
    await redis.set(key("d2"), "2");
    expect(await redis.exists(key("d1"), key("d2"), key("d-missing"))).toBe(2);
    expect(await redis.del(key("d1"), key("d2"))).toBe(2);
    expect(await redis.exists(key("d1"), key("d2"))).toBe(0);
    expect(await direct.exists(key("d1"))).toBe(0);
  });

  it("honours SET NX and PX", async () => {
    expect(await redis.set(key("nx"), "first", { nx: true })).toBe("OK");
    expect(await redis.set(key("nx"), "second", { nx: true })).toBeNull();
    expect(await redis.get(key("nx"))).toBe("first");
    expect(await redis.set(key("px"), "v", { px: 60_000 })).toBe("OK");
    const pttl = await direct.pttl(key("px"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });
});

describe("pipelines and transactions", () => {
  it("runs a pipeline in order and reports each command's error in place", async () => {
    const ok = await redis.pipeline().set(key("p"), "v").get(key("p")).incr(key("p:n")).exec();
    expect(ok).toEqual(["OK", "v", 1]);

    const results = await redis
      .pipeline()
      .set(key("p2"), "s")
      .lpush(key("p2"), "x")
      .set(key("p2:after"), "ran")
      .get(key("p2"))
      .exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", undefined, "OK", "s"]);
    expect(results[1]?.error).toMatch(/^WRONGTYPE/);
    await expect(redis.pipeline().set(key("p3"), "s").lpush(key("p3"), "x").exec()).rejects.toThrow(
      /Command 2 \[ lpush \] failed: WRONGTYPE/,
    );
    // Not atomic, as Upstash documents: commands around the failing one still ran.
    expect(await direct.get(key("p2:after"))).toBe("ran");
  });

  it("runs multi() atomically and returns results in order, errors included", async () => {
    expect(await redis.multi().set(key("m"), "a").incr(key("m:n")).get(key("m")).exec()).toEqual([
      "OK",
      1,
      "a",
    ]);

    const results = await redis
      .multi()
      .set(key("m2"), "a")
      .lpush(key("m2"), "x")
      .set(key("m2:b"), "b")
      .get(key("m2"))
      .exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", undefined, "OK", "a"]);
    expect(results[1]?.error).toMatch(/^WRONGTYPE/);
  });

  it("discards the whole transaction when a command is refused while queueing", async () => {
    // HSET with no field-value pairs fails arity checks at queue time, so EXEC aborts everything.
    await expect(
      redis.multi().set(key("abort"), "must-not-exist").hset(key("abort:h"), {}).exec(),
    ).rejects.toThrow(/EXECABORT/);
    expect(await direct.exists(key("abort"))).toBe(0);
    // The same commands as a pipeline are not atomic: the SET lands.
    await redis.pipeline().set(key("abort"), "landed").hset(key("abort:h"), {}).exec({ keepErrors: true });
    expect(await direct.get(key("abort"))).toBe("landed");
  });

  it("keeps transactions isolated from concurrent writers", async () => {
    const counter = key("iso");
    const hammer = Promise.all(Array.from({ length: 200 }, () => direct.incr(counter)));
    const pairs = await Promise.all(
      Array.from({ length: 20 }, () => redis.multi().incr(counter).incr(counter).exec<[number, number]>()),
    );
    await hammer;
    for (const [first, second] of pairs) expect(second).toBe(first + 1);
    expect(Number(await direct.get(counter))).toBe(240);
  });

  it("batches concurrent commands through auto-pipelining and keeps each result in place", async () => {
    // The auto-pipeline proxy counts the /pipeline requests it sent; the public types omit it.
    const pipelines = () => (redis as unknown as { pipelineCounter: number }).pipelineCounter;
    const before = pipelines();
    const n = 50;
    await Promise.all(Array.from({ length: n }, (_, i) => redis.set(key(`auto:${i}`), `v${i}`)));
    const values = await Promise.all(Array.from({ length: n }, (_, i) => redis.get(key(`auto:${i}`))));
    expect(values).toEqual(Array.from({ length: n }, (_, i) => `v${i}`));
    const requests = pipelines() - before;
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThan(2 * n);

    await redis.set(key("auto:str"), "s");
    const settled = await Promise.allSettled([
      redis.get(key("auto:str")),
      redis.lpush(key("auto:str"), "x"),
      redis.incr(key("auto:n")),
    ]);
    expect(settled[0]).toEqual({ status: "fulfilled", value: "s" });
    expect(settled[1]?.status === "rejected" && String(settled[1].reason)).toMatch(/WRONGTYPE/);
    expect(settled[2]).toEqual({ status: "fulfilled", value: 1 });
  });
});

describe("scripts", () => {
  it("evaluates Lua returning arrays, numbers and nil", async () => {
    expect(await redis.eval("return {KEYS[1], ARGV[1], 42, {'nested', 7}}", [key("e")], ["arg"])).toEqual([
      key("e"),
      "arg",
      42,
      ["nested", 7],
    ]);
    expect(await redis.eval("return tonumber(ARGV[1]) + 1", [], [41])).toBe(42);
    expect(await redis.eval("return redis.call('GET', KEYS[1])", [key("e:missing")], [])).toBeNull();
  });

  it("runs a fencing lease: only the first holder gets a token", async () => {
    const acquire = `
      if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
        return redis.call('INCR', KEYS[2])
      end
      return nil`;
    const keys = [key("lease"), key("lease:fence")];
    expect(await redis.eval(acquire, keys, ["owner-a", 30_000])).toBe(1);
    expect(await redis.eval(acquire, keys, ["owner-b", 30_000])).toBeNull();
    expect(await direct.get(key("lease"))).toBe("owner-a");
  });

  it("loads a script and calls it by SHA, and reports NOSCRIPT for unknown ones", async () => {
    const script = "return {ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[2])}";
    const sha = await redis.scriptLoad(script);
    expect(sha).toBe(createHash("sha1").update(script).digest("hex"));
    expect(await redis.evalsha(sha, [key("sha")], ["tag", 5])).toEqual(["tag", 5]);
    expect(await redis.evalsha(sha, [key("sha")], ["tag", 5])).toEqual(["tag", 10]);
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });
});

describe("errors and authentication", () => {
  it("surfaces a Redis error as a rejected promise with its message", async () => {
    await redis.set(key("wrongtype"), "s");
    // LPUSH goes through the auto-pipeline (/pipeline), LRANGE through a single POST /.
    await expect(redis.lpush(key("wrongtype"), "x")).rejects.toThrow(/WRONGTYPE Operation against a key/);
    await expect(redis.lrange(key("wrongtype"), 0, -1)).rejects.toThrow(/WRONGTYPE Operation against a key/);
    expect(await direct.type(key("wrongtype"))).toBe("string");
  });

  it("refuses a wrong token", async () => {
    const intruder = new Redis({ url: adapter.url, token: "not-the-token" });
    await expect(intruder.set(key("intruder"), "x")).rejects.toThrow(/Unauthorized/);
    expect(await direct.exists(key("intruder"))).toBe(0);
  });

  it("refuses a missing token", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const anonymous = new Redis({ url: adapter.url, token: "" });
      await expect(anonymous.set(key("anonymous"), "x")).rejects.toThrow(/Unauthorized/);
    } finally {
      warn.mockRestore();
    }
    const res = await rest("/", { token: null, body: JSON.stringify(["PING"]) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^Unauthorized/) });
    expect(await direct.exists(key("anonymous"))).toBe(0);
  });

  it("refuses blocking commands with a clear error", async () => {
    const res = await rest("/", { body: JSON.stringify(["BLPOP", key("never"), 0]) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/BLPOP.*blocking/) });
  });
});

describe("raw protocol", () => {
  it("answers POST / with {result} and a Redis error with 400 {error}", async () => {
    const ok = await rest("/", { body: JSON.stringify(["SET", key("raw"), "v", "EX", 100]) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ result: "OK" });
    const bad = await rest("/", { body: JSON.stringify(["INCR", key("raw")]) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "ERR value is not an integer or out of range" });
  });

  it("base64-encodes every string except a top-level OK, recursively, and only when asked", async () => {
    await direct.rpush(key("b64:l"), "a", "OK");
    const body = JSON.stringify([
      ["SET", key("b64"), "OK"],
      ["GET", key("b64")],
      ["LRANGE", key("b64:l"), 0, -1],
      ["EVAL", "return {1, {'x', false}}", 0],
      ["GET", key("b64:none")],
    ]);
    const encoded = await rest("/pipeline", { body, headers: { "upstash-encoding": "base64" } });
    expect(await encoded.json()).toEqual([
      { result: "OK" },
      { result: "OK" },
      { result: ["YQ==", "T0s="] },
      { result: [1, ["eA==", null]] },
      { result: null },
    ]);
    const plain = await rest("/pipeline", { body });
    expect(await plain.json()).toEqual([
      { result: "OK" },
      { result: "OK" },
      { result: ["a", "OK"] },
      { result: [1, ["x", null]] },
      { result: null },
    ]);
  });

  it("runs path-style commands with ?_token= and a binary POST body", async () => {
    const set = await rest(
      `/set/${encodeURIComponent(key("path/a b"))}/v%C3%A9?EX=100&_token=${adapter.token}`,
      {
        method: "GET",
        token: null,
      },
    );
    expect(await set.json()).toEqual({ result: "OK" });
    expect(await direct.get(key("path/a b"))).toBe("vé");
    expect(await direct.ttl(key("path/a b"))).toBeGreaterThan(0);

    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x80, 0x41]);
    const post = await rest(`/set/${encodeURIComponent(key("bin"))}`, { body: bytes });
    expect(await post.json()).toEqual({ result: "OK" });
    expect(await direct.getBuffer(key("bin"))).toEqual(bytes);
    const get = await rest(`/get/${encodeURIComponent(key("bin"))}`, {
      headers: { "upstash-encoding": "base64" },
    });
    expect(await get.json()).toEqual({ result: bytes.toString("base64") });
  });

  it("answers a discarded /multi-exec with one 400 error", async () => {
    const res = await rest("/multi-exec", {
      body: JSON.stringify([
        ["SET", key("mx"), "v"],
        ["NOSUCHCOMMAND", key("mx")],
      ]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^EXECABORT/) });
    expect(await direct.exists(key("mx"))).toBe(0);
  });
});
