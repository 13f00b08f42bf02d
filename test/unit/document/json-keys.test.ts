import { describe, expect, it } from "vitest";
import { DocumentError, documentId, keyText, parseJson, stringifyJson } from "../../../lib/document";
import { resolveIndex } from "./resolved";

describe("parseJson / stringifyJson", () => {
  it("parses ordinary JSON like JSON.parse", () => {
    const text = '{"a":[1,2.5,-3e2,"1234567890123456789 in a string"],"b":{"c":null,"d":true}}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it("keeps integers beyond 2^53 exact as bigint, leaving safe ones as numbers", () => {
    const parsed = parseJson(
      '{"big":9007199254740993,"neg":[-12345678901234567890],"safe":9007199254740991,"f":1.5e300}',
    );
    expect(parsed).toEqual({
      big: 9007199254740993n,
      neg: [-12345678901234567890n],
      safe: 9007199254740991,
      f: 1.5e300,
    });
  });

  it("does not touch digits inside strings, even with escapes", () => {
    expect(parseJson('{"s":"\\"12345678901234567890\\"","n":12345678901234567890}')).toEqual({
      s: '"12345678901234567890"',
      n: 12345678901234567890n,
    });
  });

  it("writes bigint values back as bare integers", () => {
    const text = '{"big":9007199254740993,"list":[1,-98765432109876543210],"s":"x"}';
    expect(stringifyJson(parseJson(text))).toBe(text);
    expect(stringifyJson({ plain: 1 })).toBe('{"plain":1}');
  });
});

describe("root keys and _id", () => {
  const single = resolveIndex({ nodes: { table: "tag" } }).root.table;
  const composite = resolveIndex({ nodes: { table: "flag" } }).root.table;

  it("accepts a bare value or an array per key", () => {
    expect(keyText(single, 5)).toEqual(["5"]);
    expect(keyText(single, [5n])).toEqual(["5"]);
    expect(keyText(composite, ["GB", true])).toEqual(["GB", "true"]);
  });

  it("rejects keys of the wrong length or with nulls", () => {
    expect(() => keyText(composite, ["GB"])).toThrow(DocumentError);
    expect(() => keyText(composite, ["GB"])).toThrow(
      "a key of public.flag has 2 value(s) (code, enabled), got 1",
    );
    expect(() => keyText(single, [null as never])).toThrow("key column id of public.tag cannot be null");
  });

  it("joins key values with | and writes booleans as Python does", () => {
    expect(documentId(single, ["42"])).toBe("42");
    expect(documentId(composite, ["GB|x", "true"])).toBe("GB|x|True");
    expect(documentId(composite, ["GB", "false"])).toBe("GB|False");
  });

  it("writes times and timestamps as Python's str() does: 6-digit fractions, ±HH:MM offsets", () => {
    const typed = (baseType: string) => ({ ...single, primaryKeyBaseTypes: [baseType] });
    const timestamp = typed("timestamp without time zone");
    expect(documentId(timestamp, ["2024-01-02 10:00:00.5"])).toBe("2024-01-02 10:00:00.500000");
    expect(documentId(timestamp, ["2024-01-02 10:00:00.123456"])).toBe("2024-01-02 10:00:00.123456");
    expect(documentId(timestamp, ["2024-01-02 11:00:00"])).toBe("2024-01-02 11:00:00");
    expect(documentId(timestamp, ["infinity"])).toBe("infinity");
    const timestamptz = typed("timestamp with time zone");
    expect(documentId(timestamptz, ["2024-01-02 10:00:00.25+00"])).toBe("2024-01-02 10:00:00.250000+00:00");
    expect(documentId(timestamptz, ["2024-01-02 10:00:00+05:30"])).toBe("2024-01-02 10:00:00+05:30");
    expect(documentId(typed("time without time zone"), ["10:00:00.5"])).toBe("10:00:00.500000");
    expect(documentId(typed("time with time zone"), ["10:00:00-03"])).toBe("10:00:00-03:00");
    // Other types are left alone, even when they look like a time.
    expect(documentId(single, ["10:00:00.5"])).toBe("10:00:00.5");
  });
});
