import { describe, expect, it } from "vitest";
import { type CliCommand, type CliIo, defineCommand, type FlagSpecs } from "../../../lib/cli/command";
import { COMMANDS, main, topHelp } from "../../../lib/cli/main";
import { ConfigError, SlotsyncError } from "../../../lib/errors";
import { SchemaError } from "../../../lib/schema";

function buffer(): { write(text: string): boolean; text: string } {
  return {
    text: "",
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

function io(env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const stdout = buffer();
  const stderr = buffer();
  const value: CliIo = {
    env,
    cwd: "/work",
    stdout,
    stderr,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
      return text;
    },
  };
  return { io: value, stdout, stderr };
}

/** A command that runs `body` with the context it received. */
function probe(body: (ctx: Parameters<CliCommand["run"]>[0]) => Promise<number>): CliCommand<FlagSpecs> {
  return defineCommand({
    name: "probe",
    summary: "test command",
    usage: ["probe [--schema <file>]"],
    flags: { schema: { type: "string", value: "<file>", description: "schema" } },
    flagEnv: { schema: "SCHEMA" },
    run: body,
  }) as CliCommand<FlagSpecs>;
}

describe("main", () => {
  it("registers every command of the contract", () => {
    expect(COMMANDS.map((c) => c.name).sort()).toEqual(
      [
        "bootstrap",
        "check-wal",
        "migrate-from-pgsync",
        "reconcile",
        "redrive",
        "render",
        "reset",
        "run",
        "status",
        "validate",
        "verify",
      ].sort(),
    );
    expect(topHelp()).toMatch(/Commands:\n {2}validate +check a schema/);
  });

  it("merges .env under the environment and puts flags into the environment they override", async () => {
    let seen: Record<string, string | undefined> = {};
    const command = probe(async (ctx) => {
      seen = { ...ctx.env };
      return 0;
    });
    const t = io(
      { PG_URL: "postgresql://env/db" },
      { "/work/.env": "PG_URL=postgresql://file/db\nSCHEMA=file.json\nX=1" },
    );
    expect(await main(["probe", "--schema", "flag.json"], t.io, [command])).toBe(0);
    expect(seen).toEqual({ PG_URL: "postgresql://env/db", SCHEMA: "flag.json", X: "1" });
  });

  it("prints configuration problems one per line as `<VAR> <message>`, exit 2", async () => {
    const command = probe(async (ctx) => {
      ctx.config({ pg: true, schema: true });
      return 0;
    });
    const t = io({ PG_URL: "mysql://x" });
    expect(await main(["probe"], t.io, [command])).toBe(2);
    expect(t.stderr.text).toBe(
      "PG_URL must be a postgres or postgresql URL\nSCHEMA is required: a schema.json path, or SCHEMA_URL (https:// or s3://)\n",
    );
  });

  it("names each PGSync variable it does not read once on stderr, from .env too, and runs on", async () => {
    const command = probe(async (ctx) => {
      ctx.config({ pg: true });
      ctx.config({ pg: true });
      return 0;
    });
    const t = io(
      { PG_URL: "postgresql://u@localhost/db", ELASTICSEARCH_USE_SSL: "true" },
      { "/work/.env": "REDIS_HOST=redis.internal\n" },
    );
    expect(await main(["probe"], t.io, [command])).toBe(0);
    expect(t.stderr.text.split("\n").filter(Boolean)).toEqual([
      "slotsync: warning: ELASTICSEARCH_USE_SSL is PGSync's and is not read by slotsync: TLS follows the URL's scheme: set ELASTICSEARCH_SCHEME=https (or an https:// ELASTICSEARCH_URL)",
      expect.stringMatching(
        /^slotsync: warning: REDIS_HOST is PGSync's and is not read by slotsync: no Redis queue/,
      ),
    ]);
    expect(t.stdout.text).toBe("");
  });

  it("prints schema problems as `<path>: <message>`, exit 2", async () => {
    const command = probe(async () => {
      throw new SchemaError([
        { path: "[0].nodes.table", message: "table x does not exist" },
        { path: "", message: "no index" },
      ]);
    });
    const t = io();
    expect(await main(["probe"], t.io, [command])).toBe(2);
    expect(t.stderr.text).toBe("[0].nodes.table: table x does not exist\nno index\n");
  });

  it("prints other failures as one line with the fix, exit 1", async () => {
    const t = io();
    const failing = probe(async () => {
      throw new SlotsyncError('replication slot "s" does not exist', {
        where: "slot s",
        fix: "run `slotsync bootstrap`",
      });
    });
    expect(await main(["probe"], t.io, [failing])).toBe(1);
    expect(t.stderr.text).toBe(
      'slotsync: slot s: replication slot "s" does not exist — run `slotsync bootstrap`\n',
    );

    const pgError = Object.assign(new Error("permission denied for table book"), {
      code: "42501",
      severity: "ERROR",
      hint: "ask the owner",
    });
    const t2 = io();
    expect(await main(["probe"], t2.io, [probe(async () => Promise.reject(pgError))])).toBe(1);
    expect(t2.stderr.text).toBe("slotsync: PostgreSQL: permission denied for table book — ask the owner\n");
  });

  it("prints each problem a ConfigError lists, whole, even when a message holds '; '", async () => {
    const t = io();
    const command = probe(async () => {
      throw new ConfigError("2 configuration problems", {
        problems: [
          { key: "A", message: "must be set; see the docs" },
          { key: "B", message: "must be a number" },
        ],
      });
    });
    expect(await main(["probe"], t.io, [command])).toBe(2);
    expect(t.stderr.text).toBe("A must be set; see the docs\nB must be a number\n");
  });

  it("answers --help, help <command> and --version without running anything", async () => {
    const command = probe(async () => {
      throw new Error("must not run");
    });
    for (const argv of [
      ["probe", "--help"],
      ["probe", "-h"],
      ["help", "probe"],
    ]) {
      const t = io();
      expect(await main(argv, t.io, [command])).toBe(0);
      expect(t.stdout.text).toMatch(/^slotsync probe — test command\n/);
    }
    const v = io();
    expect(await main(["--version"], v.io, [command])).toBe(0);
    expect(v.stdout.text).toMatch(/^slotsync \d+\.\d+\.\d+\n$/);
  });

  it("usage errors: unknown command, flag before the command, exit 2", async () => {
    const t = io();
    expect(await main(["prob"], t.io, [probe(async () => 0)])).toBe(2);
    expect(t.stderr.text).toBe('slotsync: unknown command "prob" (did you mean probe?)\n');
    const t2 = io();
    expect(await main(["--schema", "x", "probe"], t2.io, [probe(async () => 0)])).toBe(2);
    expect(t2.stderr.text).toMatch(/^slotsync: unknown flag --schema \(write the command first/);
  });

  it("returns the command's own exit code", async () => {
    expect(await main(["probe"], io().io, [probe(async () => 3)])).toBe(3);
  });
});
