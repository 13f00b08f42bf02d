import { describe, expect, it } from "vitest";
import { bootstrapSettingsFromEnv } from "../../../lib/bootstrap";
import { ConfigError } from "../../../lib/errors";

describe("bootstrap settings", () => {
  it("defaults", () => {
    expect(bootstrapSettingsFromEnv({})).toEqual({
      pollerRuleName: undefined,
      graceMs: 3_600_000,
      rangeRows: 5000,
      resendAfterMs: 1_800_000,
      targetsCacheMs: 10_000,
    });
  });

  it("reads every variable", () => {
    expect(
      bootstrapSettingsFromEnv({
        POLLER_RULE_NAME: "slotsync-poller",
        REINDEX_GRACE_MINUTES: "5",
        BOOTSTRAP_RANGE_ROWS: "1000",
        BOOTSTRAP_RESEND_MINUTES: "10",
        WRITE_TARGETS_CACHE_SECONDS: "0",
      }),
    ).toEqual({
      pollerRuleName: "slotsync-poller",
      graceMs: 300_000,
      rangeRows: 1000,
      resendAfterMs: 600_000,
      targetsCacheMs: 0,
    });
  });

  it("names every bad variable at once", () => {
    let error: unknown;
    try {
      bootstrapSettingsFromEnv({ REINDEX_GRACE_MINUTES: "-1", BOOTSTRAP_RANGE_ROWS: "1.5" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/REINDEX_GRACE_MINUTES.*BOOTSTRAP_RANGE_ROWS/);
  });
});
