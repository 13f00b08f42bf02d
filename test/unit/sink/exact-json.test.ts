import { describe, expect, it } from "vitest";
import { stringifyExact } from "../../../lib/sink/exact-json";

describe("stringifyExact", () => {
  it("writes bigints as exact JSON integers", () => {
    expect(stringifyExact({ a: 2n ** 64n + 1n, b: [-(2n ** 60n)], c: "1" })).toBe(
      '{"a":18446744073709551617,"b":[-1152921504606846976],"c":"1"}',
    );
  });

  it("leaves ordinary values and NUL-bearing strings alone", () => {
    expect(stringifyExact({ a: 1, s: "\u0000#bigint#1" })).toBe('{"a":1,"s":"\\u0000#bigint#1"}');
  });
});
