import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, runCli, scratchDir } from "../support/cli";

const fixtures = join(import.meta.dirname, "..", "fixtures", "cli");
const invalid = join(fixtures, "invalid-schema.json");
const valid = join(fixtures, "valid-schema.json");
let scratch: Awaited<ReturnType<typeof scratchDir>>;

beforeAll(async () => {
  scratch = await scratchDir("cli-basics");
});
afterAll(async () => {
  await scratch?.remove();
});

describe("slotsync: help and usage errors", () => {
  it("--help lists every command and the exit codes, exit 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const name of ["validate", "render", "run", "status"])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(r.stdout).toMatch(/Exit codes: 0 ok; 1 failure/);
  });

  it.each(["validate", "render", "run", "status"])(
    "%s --help shows its usage and flags, exit 0",
    async (name) => {
      const r = await runCli([name, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage:\n  slotsync ${name}`);
      expect(r.stdout).toMatch(/--env-file <file>/);
      expect(r.stdout).toMatch(/Exit codes:/);
      expect(r.stderr).toBe("");
    },
  );

  it("an unknown flag is one line naming it and the likely fix, exit 2", async () => {
    const r = await runCli(["render", "--idz", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("slotsync: unknown flag --idz for render (did you mean --ids?)\n");
    expect(r.stdout).toBe("");
  });

  it("an unknown command suggests the closest one, exit 2", async () => {
    const r = await runCli(["valdiate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('slotsync: unknown command "valdiate" (did you mean validate?)\n');
  });

  it("a flag without its value, or with a bad one, exit 2", async () => {
    const missing = await runCli(["validate", "--schema"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^slotsync: flag --schema of validate needs a value \(write --schema <file\|url>\)\n$/,
    );
    const bad = await runCli(["run", "--consumers", "zero"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--consumers must be a whole number from 1 to 64, got "zero"/);
  });

  it("no command prints the help on stderr, exit 2", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^slotsync — /);
  });
});

describe("slotsync: configuration errors", () => {
  it("prints one line per bad variable, `<VAR> <message>`, exit 2, without echoing values", async () => {
    const r = await runCli(["render", "--schema", valid], {
      env: { PG_URL: "not a url with secret-password", POLL_INTERVAL_SECONDS: "fast" },
    });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      "PG_URL is not a valid URL (expected postgres or postgresql://...)",
      "POLL_INTERVAL_SECONDS must be a number from 0.05 to 60",
    ]);
    expect(r.stderr).not.toContain("secret-password");
  });

  it("reads .env from the working directory; the environment wins over it", async () => {
    await writeFile(
      join(scratch.dir, ".env"),
      `# comment\nSCHEMA=${invalid}\nexport PG_URL="postgresql://x@127.0.0.1:1/none"\n`,
    );
    const fromFile = await runCli(["validate", "--offline"], { cwd: scratch.dir });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stdout).toContain("[0].index: ");
    const envWins = await runCli(["validate", "--offline"], { cwd: scratch.dir, env: { SCHEMA: valid } });
    expect(envWins.code).toBe(0);
    expect(envWins.stdout).toBe(`${valid}: valid (2 indices)\n`);
  });

  // A missing --env-file is covered by the unit tests: Node 20 itself reads `--env-file` anywhere on
  // its command line (even after the script) and exits 9 before slotsync runs.
  it("--env-file reads another file instead of ./.env", async () => {
    const other = join(scratch.dir, "other.env");
    await writeFile(other, `SCHEMA='${valid}'\n`);
    const r = await runCli(["validate", "--offline", "--env-file", other], { cwd: scratch.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${valid}: valid (2 indices)\n`);
  });

  it("a schema is required: the missing variable is named, exit 2", async () => {
    const r = await runCli(["validate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^SCHEMA is required: /);
  });
});

describe("slotsync validate without a database", () => {
  it("an invalid schema: one `<json path>: <message>` line per problem on stdout, exit 2", async () => {
    const r = await runCli(["validate", "--schema", invalid]);
    expect(r.code).toBe(2);
    expect(lines(r.stdout)).toEqual([
      '[0].index: index name "Books" must be lowercase (Elasticsearch rejects uppercase); use "books"',
      expect.stringMatching(
        /^\[0\]\.nodes\.childern: unknown node key "childern"; did you mean "children"\?/,
      ),
      '[0].nodes.columns: expected columns (an array of strings), got the string "title" (write ["title"])',
      '[0].nodes.children[0].relationship.type: expected "one_to_one" or "one_to_many", got "one_to_several"',
    ]);
    expect(r.stderr).toContain("4 problems");
  });

  it("a valid schema: `<file>: valid (N indices)`, exit 0, and says the database was not checked", async () => {
    const r = await runCli(["validate", "--schema", valid]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${valid}: valid (2 indices)\n`);
    expect(r.stderr).toMatch(/PG_URL is not set: the database was not checked/);
  });

  it("a schema file that does not exist: one line with the fix, exit 2", async () => {
    const r = await runCli(["validate", "--schema", "missing.json"], { cwd: scratch.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^slotsync: missing\.json: schema file missing\.json does not exist — pass --schema/,
    );
  });

  it("a database that cannot be reached: one line with the fix, exit 1, no password shown", async () => {
    const r = await runCli(["validate", "--schema", valid], {
      env: { PG_URL: "postgresql://me:hunter2@127.0.0.1:9/shop" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "slotsync: 127.0.0.1:9/shop: cannot connect to PostgreSQL: connection refused — check the host and port in PG_URL and that the server is running\n",
    );
  });
});
