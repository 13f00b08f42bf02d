import { describe, expect, it } from "vitest";
import { loadCliEnv, parseEnvText } from "../../../lib/cli/env-file";
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
