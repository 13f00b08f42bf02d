import { describe, expect, it } from "vitest";
import { consumerOptionsFromEnv, DEFAULT_CONSUMER_OPTIONS } from "../../../lib/consumer";
import { ConfigError } from "../../../lib/errors";

describe("consumerOptionsFromEnv", () => {
  it("builds one chunk ahead by default", () => {
    expect(consumerOptionsFromEnv({})).toEqual({ ...DEFAULT_CONSUMER_OPTIONS, lookAhead: 1 });
  });

  it("reads CONSUMER_LOOK_AHEAD, 0 turning the overlap off", () => {
    expect(consumerOptionsFromEnv({ CONSUMER_LOOK_AHEAD: "0" }).lookAhead).toBe(0);
    expect(consumerOptionsFromEnv({ CONSUMER_LOOK_AHEAD: "3" }).lookAhead).toBe(3);
  });

  it("names the variable and the allowed values when the value is bad", () => {
    for (const value of ["-1", "9", "1.5", "two"]) {
      const error = (() => {
        try {
          consumerOptionsFromEnv({ CONSUMER_LOOK_AHEAD: value });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/CONSUMER_LOOK_AHEAD.*whole number from 0 to 8/);
    }
  });
});
