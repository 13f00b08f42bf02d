import { describe, expect, it } from "vitest";
import { loadCliEnv, parseEnvText, unclosedQuote } from "../../../lib/cli/env-file";
import { UsageError } from "../../../lib/cli/flags";

function files(map: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return text;
  };
}

describe("loadCliEnv", () => {
  it("reads .env from the working directory; the environment wins, even when empty", () => {
    const { env, file } = loadCliEnv({
      cwd: "/work",
      env: { PG_URL: "postgresql://env/db", SCHEMA: "", HOME: "/root" },
      readFile: files({ "/work/.env": "PG_URL=postgresql://file/db\nSCHEMA=s.json\nSLOTSYNC_SLOT=s1\n" }),
    });
    expect(file).toBe("/work/.env");
    expect(env).toEqual({ PG_URL: "postgresql://env/db", SCHEMA: "", SLOTSYNC_SLOT: "s1", HOME: "/root" });
  });

  it("without a .env file the environment is used as is", () => {
    const { env, file } = loadCliEnv({ cwd: "/work", env: { A: "1" }, readFile: files({}) });
    expect(file).toBeUndefined();
    expect(env).toEqual({ A: "1" });
  });

  it("--env-file reads that file instead (relative to the working directory)", () => {
    const { env, file } = loadCliEnv({
      cwd: "/work",
      envFile: "conf/prod.env",
      env: {},
      readFile: files({ "/work/.env": "A=dot", "/work/conf/prod.env": "A=prod" }),
    });
    expect(file).toBe("/work/conf/prod.env");
    expect(env.A).toBe("prod");
  });

  it("a missing --env-file is a usage error with the fix", () => {
    let caught: unknown;
    try {
      loadCliEnv({ cwd: "/work", envFile: "nope.env", env: {}, readFile: files({}) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect(caught).toMatchObject({
      message: "env file nope.env does not exist",
      fix: "check the path given to --env-file",
    });
  });

  it("an unreadable .env is reported rather than ignored", () => {
    const readFile = () => {
      throw Object.assign(new Error("EACCES"), { code: "EACCES" });
    };
    expect(() => loadCliEnv({ cwd: "/w", env: {}, readFile })).toThrow(/cannot read \/w\/.env/);
  });
});

describe("parseEnvText", () => {
  it("parses comments, export, quotes and multi-line values as Node does", () => {
    expect(
      parseEnvText(
        [
          "# a comment",
          "export PG_URL=postgresql://u:p@h/db",
          "SCHEMA='my schema.json'",
          'CA="-----BEGIN CERT-----\\nabc\\n-----END CERT-----"',
          "EMPTY=",
          "TRAILING=value # note",
        ].join("\n"),
      ),
    ).toEqual({
      PG_URL: "postgresql://u:p@h/db",
      SCHEMA: "my schema.json",
      CA: "-----BEGIN CERT-----\nabc\n-----END CERT-----",
      EMPTY: "",
      TRAILING: "value",
    });
  });
});

describe("unclosedQuote", () => {
  it("finds a quote that would swallow the next variables, or never closes", () => {
    expect(unclosedQuote('A=1\nB="abc\nC=3\nD="x"\n')).toEqual({
      line: 2,
      message:
        'the value of B opens a " quote that closes only on line 4, so the variables on lines 3-4 would become part of it',
      fix: "close the quote on line 2",
    });
    expect(unclosedQuote("A=1\nexport B='abc\n")?.message).toBe(
      "the value of B opens a ' quote that is never closed",
    );
  });

  it("accepts closed, escaped and truly multi-line values", () => {
    expect(unclosedQuote('A="x \\" y"\nB=\'z\'\nC=plain "quoted" text\n')).toBeUndefined();
    expect(unclosedQuote('CERT="-----BEGIN-----\nMIIabc\n-----END-----"\nX=1\n')).toBeUndefined();
  });

  it("stops loadCliEnv with the file and line, never the value", () => {
    const error = (() => {
      try {
        loadCliEnv({ env: {}, cwd: "/w", readFile: () => 'TOKEN="s3cret-value\nX=1\nY="2"' });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toBe(
      '.env line 1: the value of TOKEN opens a " quote that closes only on line 3, so the variables on lines 2-3 would become part of it',
    );
    expect(error?.message).not.toContain("s3cret");
  });
});
