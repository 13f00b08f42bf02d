import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import { ConfigError } from "../../../lib/errors";

function error(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const schemaFile = (database: string) => () =>
  JSON.stringify([{ database, index: "books", nodes: { table: "book" } }]);

describe("PGSync's PostgreSQL variables", () => {
  it("composes the URL from PG_HOST, PG_PORT, PG_USER, PG_PASSWORD, PG_SSLMODE and the schema's database", () => {
    const config = loadConfig(
      {
        PG_HOST: "db.internal",
        PG_PORT: "6432",
        PG_USER: "sync",
        PG_PASSWORD: "p@ss:word/1",
        PG_SSLMODE: "verify-full",
        PG_SSLROOTCERT: "/etc/ssl/rds.pem",
        PG_DATABASE: "postgres",
        SCHEMA: "schema.json",
      },
      { pg: true, schema: true },
      { readFile: schemaFile("shop") },
    );
    const url = new URL(config.pgUrl);
    expect([url.hostname, url.port, url.username, decodeURIComponent(url.password), url.pathname]).toEqual([
      "db.internal",
      "6432",
      "sync",
      "p@ss:word/1",
      "/shop",
    ]);
    expect(url.searchParams.get("sslmode")).toBe("verify-full");
    expect(url.searchParams.get("sslrootcert")).toBe("/etc/ssl/rds.pem");
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: a schema's ${NAME} reference, not a template
  it("keeps PGSync's defaults (localhost, 5432) and substitutes ${NAME} in the schema's database", () => {
    const config = loadConfig(
      { PG_USER: "sync", SCHEMA: "schema.json", DATABASE: "shop_42" },
      { pg: true },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a schema's ${NAME} reference, not a template
      { readFile: schemaFile("${DATABASE}") },
    );
    expect(config.pgUrl).toBe("postgresql://sync@localhost:5432/shop_42");
  });

  it("uses PG_DATABASE when the schema is not a local file, and asks for it when missing", () => {
    expect(
      loadConfig({ PG_USER: "u", PG_DATABASE: "shop", SCHEMA_URL: "s3://b/schema.json" }, { pg: true }).pgUrl,
    ).toBe("postgresql://u@localhost:5432/shop");
    const e = error(() => loadConfig({ PG_USER: "u", SCHEMA_URL: "https://x/schema.json" }, { pg: true }));
    expect(e.where).toBe("PG_DATABASE");
  });

  it("requires PG_USER with the other parts, as PGSync does", () => {
    const e = error(() => loadConfig({ PG_HOST: "db", PG_PASSWORD: "hunter2" }, { pg: true }));
    expect(e.where).toBe("PG_USER");
    expect(e.message).not.toContain("hunter2");
  });

  it("accepts PG_URL with parts that agree, and names the parts that disagree without their values", () => {
    const url = "postgresql://sync:pw-1@db:5432/shop?sslmode=require";
    expect(
      loadConfig({ PG_URL: url, PG_HOST: "db", PG_USER: "sync", PG_PASSWORD: "pw-1", PG_SSLMODE: "require" })
        .pgUrl,
    ).toBe(url);
    const e = error(() =>
      loadConfig({ PG_URL: url, PG_HOST: "db", PG_PORT: "5433", PG_PASSWORD: "other-secret" }, { pg: true }),
    );
    expect(e.where).toBe("PG_URL");
    expect(e.message).toContain("disagrees with PG_PORT, PG_PASSWORD");
    expect(e.message).not.toContain("other-secret");
    expect(e.message).not.toContain("pw-1");
  });

  it("rejects an sslmode libpq does not know", () => {
    const e = error(() => loadConfig({ PG_USER: "u", PG_DATABASE: "d", PG_SSLMODE: "on" }, { pg: true }));
    expect(e.message).toContain(
      "PG_SSLMODE must be one of disable, allow, prefer, require, verify-ca, verify-full",
    );
  });
});

describe("PGSync's search engine variables", () => {
  it("composes ELASTICSEARCH_URL from ELASTICSEARCH_SCHEME, _HOST and _PORT (defaults http, localhost, 9200)", () => {
    const config = loadConfig(
      {
        ELASTICSEARCH_SCHEME: "https",
        ELASTICSEARCH_HOST: "search.internal",
        ELASTICSEARCH_USER: "elastic",
        ELASTICSEARCH_PASSWORD: "es-secret",
      },
      { sink: true },
    );
    expect(config.sink).toMatchObject({
      engine: "elasticsearch",
      node: ["https://search.internal:9200"],
      auth: { type: "basic", username: "elastic", password: "es-secret" },
    });
    expect(loadConfig({ ELASTICSEARCH_PORT: "9201" }, { sink: true }).sink).toMatchObject({
      node: ["http://localhost:9201"],
    });
  });

  it("accepts both forms when they agree, and names the parts that disagree", () => {
    expect(
      loadConfig({
        ELASTICSEARCH_URL: "https://es:443",
        ELASTICSEARCH_HOST: "es",
        ELASTICSEARCH_SCHEME: "https",
      }).sink,
    ).toMatchObject({ node: ["https://es"] });
    const e = error(() =>
      loadConfig({ ELASTICSEARCH_URL: "http://es:9200", ELASTICSEARCH_HOST: "other" }, { sink: true }),
    );
    expect(e.where).toBe("ELASTICSEARCH_URL");
    expect(e.message).toContain("disagrees with ELASTICSEARCH_HOST");
  });

  it("reads PGSync's API key pair", () => {
    const env = {
      ELASTICSEARCH_HOST: "es",
      ELASTICSEARCH_API_KEY_ID: "kid",
      ELASTICSEARCH_API_KEY: "k-secret",
    };
    expect(loadConfig({ ...env, ELASTICSEARCH_SCHEME: "https" }, { sink: true }).sink).toMatchObject({
      node: ["https://es:9200"],
      auth: { type: "apiKey", id: "kid", secret: "k-secret" },
    });
    // PGSync's default scheme is http: an API key to another machine needs TLS.
    expect(() => loadConfig(env, { sink: true })).toThrow(
      /^ELASTICSEARCH_URL uses plain http to es:9200, which would send the API key in the clear; use https:\/\//,
    );
  });
});
