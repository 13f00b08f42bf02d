import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CONFIG_VARIABLES,
  loadConfig,
  renderConfigReference,
  UNREAD_PGSYNC_VARIABLES,
  unreadPgsyncWarnings,
} from "../../../lib/config";
import { ConfigError } from "../../../lib/errors";

/** PGSync 7.3.0's variables, checked against the installed PGSync by the PGSync example test. */
const PGSYNC_SETTINGS = readFileSync(
  new URL("../../fixtures/pgsync/settings-7.3.0.txt", import.meta.url),
  "utf8",
)
  .split("\n")
  .filter((line) => line && !line.startsWith("#"));

const unread = UNREAD_PGSYNC_VARIABLES.flatMap((group) => group.names);
const read = new Set(CONFIG_VARIABLES.map((variable) => variable.name));

describe("PGSync variables slotsync does not read", () => {
  it("covers every PGSync 7.3.0 variable: each is either read or named here, never both", () => {
    expect(PGSYNC_SETTINGS.length).toBeGreaterThan(90);
    const neither = PGSYNC_SETTINGS.filter((name) => !read.has(name) && !unread.includes(name));
    expect(neither).toEqual([]);
    expect(unread.filter((name) => read.has(name))).toEqual([]);
    expect(new Set(unread).size).toBe(unread.length);
    expect(unread.filter((name) => !PGSYNC_SETTINGS.includes(name))).toEqual([]);
  });

  it("warns once for each one that is set, naming it and what to do, never its value", () => {
    const warnings = unreadPgsyncWarnings({
      ELASTICSEARCH_USE_SSL: "True",
      PG_PASSWORD_RO: "s3cret-value",
      REDIS_HOST: "redis.internal",
      REDIS_PORT: "6379",
      CHECKPOINT_PATH: " ",
      PG_URL: "postgresql://u@h/db",
    });
    expect(warnings.map((w) => w.key)).toEqual([
      "ELASTICSEARCH_USE_SSL",
      "PG_PASSWORD_RO",
      "REDIS_HOST",
      "REDIS_PORT",
    ]);
    const [ssl, ro, redis] = warnings;
    expect(ssl?.message).toBe(
      "is PGSync's and is not read by slotsync: TLS follows the URL's scheme: set ELASTICSEARCH_SCHEME=https (or an https:// ELASTICSEARCH_URL)",
    );
    expect(ro?.message).toContain("no read replica is used");
    expect(redis?.message).toContain("UPSTASH_REDIS_REST_URL");
    expect(JSON.stringify(warnings)).not.toContain("s3cret-value");
    expect(JSON.stringify(warnings)).not.toContain("redis.internal");
  });

  it("says nothing for an environment of slotsync's own variables", () => {
    expect(
      unreadPgsyncWarnings({ PG_URL: "postgresql://u@h/db", ELASTICSEARCH_URL: "http://localhost:9200" }),
    ).toEqual([]);
  });

  it("reaches the configuration as warnings, not problems: start-up goes on", () => {
    const config = loadConfig(
      { PG_URL: "postgresql://u@localhost/db", NUM_WORKERS: "4", POLLING: "false" },
      { pg: true },
    );
    expect(config.warnings.map((w) => w.key)).toEqual(["NUM_WORKERS", "POLLING"]);
  });

  it("are listed in the configuration reference with what to do instead", () => {
    const page = renderConfigReference();
    expect(page).toContain("## PGSync variables slotsync does not read");
    for (const group of UNREAD_PGSYNC_VARIABLES) {
      const row = page.split("\n").find((line) => line.startsWith(`| \`${group.names[0]}\``));
      expect(row, group.names[0]).toContain(group.instead);
    }
  });
});

describe("S3_SCHEMA_URL (PGSync's name for a schema on S3)", () => {
  it("is read when SCHEMA and SCHEMA_URL are not set", () => {
    expect(loadConfig({ S3_SCHEMA_URL: "s3://bucket/schema.json" }).schema).toBe("s3://bucket/schema.json");
    expect(
      loadConfig({ SCHEMA_URL: "https://x/s.json", S3_SCHEMA_URL: "s3://bucket/schema.json" }).schema,
    ).toBe("https://x/s.json");
  });

  it("must be an s3:// URL", () => {
    expect(() => loadConfig({ S3_SCHEMA_URL: "https://bucket/schema.json" })).toThrow(ConfigError);
    expect(() => loadConfig({ S3_SCHEMA_URL: "https://bucket/schema.json" })).toThrow(
      /S3_SCHEMA_URL must be a s3 URL/,
    );
  });
});
