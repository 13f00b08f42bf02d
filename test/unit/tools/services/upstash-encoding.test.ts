import { describe, expect, it } from "vitest";
import {
  commandFromJson,
  commandFromPath,
  commandsFromJson,
  encodeReply,
  ProtocolError,
  percentDecode,
} from "../../../../tools/services/upstash-protocol";

const b = (text: string) => Buffer.from(text, "utf8");

describe("encodeReply", () => {
  it("base64-encodes strings but leaves a top-level OK alone, as Upstash and its client do", () => {
    expect(encodeReply(b("OK"), true)).toBe("OK");
    expect(encodeReply(b("bar"), true)).toBe("YmFy");
    expect(encodeReply(b("PONG"), true)).toBe("UE9ORw==");
    expect(encodeReply(b(""), true)).toBe("");
  });

  it("encodes every string inside arrays, OK included, and keeps numbers and nil", () => {
    expect(encodeReply([b("OK"), 7, null, [b("x"), [null, b("OK")]]], true)).toEqual([
      "T0s=",
      7,
      null,
      ["eA==", [null, "T0s="]],
    ]);
  });

  it("keeps arbitrary bytes exact in base64 and replaces invalid UTF-8 without it", () => {
    const bytes = Buffer.from([0x00, 0xff, 0x80, 0x41]);
    expect(Buffer.from(encodeReply(bytes, true) as string, "base64")).toEqual(bytes);
    expect(encodeReply(bytes, false)).toBe("\u0000\uFFFD\uFFFDA");
  });

  it("returns plain UTF-8 strings without the header", () => {
    expect(encodeReply([b("zażółć 🐄"), 1, null], false)).toEqual(["zażółć 🐄", 1, null]);
    expect(encodeReply(undefined, false)).toBeNull();
  });

  it("passes on the message of an error nested in an array", () => {
    expect(encodeReply([new Error("ERR inner")], false)).toEqual(["ERR inner"]);
  });
});

describe("commandFromJson", () => {
  it("upper-cases the name and sends numbers and booleans in their string form", () => {
    expect(commandFromJson(["set", "k", "v", "EX", 10])).toEqual({
      name: "SET",
      args: ["k", "v", "EX", "10"],
    });
    expect(commandFromJson(["incrbyfloat", "k", 0.5])).toEqual({ name: "INCRBYFLOAT", args: ["k", "0.5"] });
    expect(commandFromJson(["echo", true])).toEqual({ name: "ECHO", args: ["true"] });
  });

  it("rejects malformed commands with a 400 protocol error", () => {
    for (const bad of [[], "GET k", ["SET", { a: 1 }], ["GET", null], [["GET", "k"]], [""]]) {
      expect(() => commandFromJson(bad)).toThrow(ProtocolError);
    }
  });

  it("refuses blocking, pub/sub and connection-state commands", () => {
    expect(() => commandFromJson(["blpop", "k", 0])).toThrow(/blocking/);
    expect(() => commandFromJson(["XREAD", "block", "0", "STREAMS", "s", "$"])).toThrow(/BLOCK/);
    expect(() => commandFromJson(["subscribe", "ch"])).toThrow(/pub\/sub/);
    expect(() => commandFromJson(["MULTI"])).toThrow(/multi-exec/);
    expect(() => commandFromJson(["select", 1])).toThrow(/connection-level/);
    expect(() => commandFromJson(["client", "reply", "off"])).toThrow(/CLIENT REPLY/);
    expect(commandFromJson(["XREAD", "COUNT", 1, "STREAMS", "s", "0"]).name).toBe("XREAD");
  });
});

describe("commandsFromJson", () => {
  it("accepts a non-empty array of commands only", () => {
    expect(
      commandsFromJson([
        ["GET", "a"],
        ["INCR", "b"],
      ]).map((c) => c.name),
    ).toEqual(["GET", "INCR"]);
    expect(() => commandsFromJson([])).toThrow(ProtocolError);
    expect(() => commandsFromJson(["GET", "a"])).toThrow(ProtocolError);
  });
});

describe("commandFromPath", () => {
  it("decodes path segments to bytes, appends the body, then query parameters but not _token", () => {
    const body = Buffer.from([0x00, 0xff]);
    const command = commandFromPath("/set/a%2Fb/", new URLSearchParams("_token=T&EX=100&NX"), body);
    expect(command).toEqual({ name: "SET", args: [b("a/b"), body, "EX", "100", "NX"] });
  });

  it("leaves out an empty body and rejects an empty path", () => {
    expect(commandFromPath("/get/k", new URLSearchParams(), Buffer.alloc(0))).toEqual({
      name: "GET",
      args: [b("k")],
    });
    expect(() => commandFromPath("/", new URLSearchParams(), Buffer.alloc(0))).toThrow(/empty command/);
    expect(() => commandFromPath("/monitor", new URLSearchParams(), Buffer.alloc(0))).toThrow(/MONITOR/);
  });
});

describe("percentDecode", () => {
  it("turns escapes into raw bytes and keeps other characters as UTF-8", () => {
    expect(percentDecode("%FF%00a")).toEqual(Buffer.from([0xff, 0x00, 0x61]));
    expect(percentDecode("é🐄%zz%4")).toEqual(b("é🐄%zz%4"));
  });
});
