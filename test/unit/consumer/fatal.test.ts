import { describe, expect, it } from "vitest";
import { isFatal } from "../../../lib/consumer";
import { SlotsyncError } from "../../../lib/errors";

describe("isFatal", () => {
  it("stops on errors retrying cannot fix, keeps going on transient ones", () => {
    expect(isFatal(undefined)).toBe(false);
    expect(isFatal(new SlotsyncError("bad credentials", { retryable: false }))).toBe(true);
    expect(isFatal(new SlotsyncError("engine busy", { retryable: true }))).toBe(false);
    const dropped = Object.assign(new Error("terminating connection"), { code: "57P01" });
    expect(isFatal(new SlotsyncError("build failed", { retryable: false, cause: dropped }))).toBe(false);
    expect(isFatal(Object.assign(new Error("column x does not exist"), { code: "42703" }))).toBe(true);
    expect(isFatal(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).toBe(false);
  });
});
