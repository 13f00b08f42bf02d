import { describe, expect, it } from "vitest";
import type { FlagSpecs } from "../../../lib/cli/command";
import { formatHelp, parseFlags, UsageError } from "../../../lib/cli/flags";

const specs = {
  schema: { type: "string", value: "<file>", description: "the schema" },
  ids: { type: "list", value: "<a,b>", description: "ids" },
  consumers: { type: "integer", min: 1, max: 64, description: "n" },
  "poll-interval": { type: "number", min: 0.05, max: 60, description: "s" },
  once: { type: "boolean", description: "once" },
  help: { type: "boolean", short: "h", description: "help" },
} as const satisfies FlagSpecs;

function usage(argv: string[]): UsageError {
  try {
    parseFlags(argv, specs, "render");
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("no UsageError");
}

describe("parseFlags", () => {
  it("reads --name value, --name=value, booleans and short flags, with defaults for absent ones", () => {
    expect(parseFlags(["--schema", "s.json", "--consumers=3", "--once", "-h"], specs, "run")).toEqual({
      schema: "s.json",
      ids: undefined,
      consumers: 3,
      "poll-interval": undefined,
      once: true,
      help: true,
    });
    expect(parseFlags([], specs, "run").once).toBe(false);
    expect(parseFlags(["--once=false"], specs, "run").once).toBe(false);
  });

  it("takes the next argument as the value even when it starts with a dash", () => {
    expect(parseFlags(["--ids", "-1,2"], specs, "render").ids).toEqual(["-1", "2"]);
  });

  it("splits lists on commas, drops empty items and accumulates repeated flags", () => {
    expect(parseFlags(["--ids", "a, b,,c", "--ids=d|e"], specs, "render").ids).toEqual([
      "a",
      "b",
      "c",
      "d|e",
    ]);
  });

  it("names an unknown flag with the closest known one as the fix", () => {
    const e = usage(["--idz", "1"]);
    expect(e.message).toBe("unknown flag --idz for render");
    expect(e.fix).toBe("did you mean --ids?");
    expect(usage(["--frobnicate"]).fix).toBe("see slotsync render --help");
    expect(usage(["-x"]).message).toBe("unknown flag -x for render");
  });

  it("refuses positional arguments", () => {
    expect(usage(["schema.json"]).message).toBe('unexpected argument "schema.json" for render');
  });

  it("checks values: present, numeric, in range, whole where required", () => {
    expect(usage(["--schema"]).message).toBe("flag --schema of render needs a value");
    expect(usage(["--schema="]).message).toBe("flag --schema needs a value");
    expect(usage(["--consumers", "0"]).message).toBe(
      'flag --consumers must be a whole number from 1 to 64, got "0"',
    );
    expect(usage(["--consumers", "1.5"]).message).toMatch(/whole number/);
    expect(usage(["--poll-interval", "soon"]).message).toBe(
      'flag --poll-interval must be a number from 0.05 to 60, got "soon"',
    );
    expect(usage(["--ids", ","]).message).toBe("flag --ids needs at least one value");
    expect(usage(["--once=maybe"]).message).toBe("flag --once takes no value");
  });
});

describe("formatHelp", () => {
  it("lists usage, the command's flags and the global ones, aligned", () => {
    const text = formatHelp({
      name: "render",
      summary: "print",
      usage: ["render --schema <file>"],
      flags: specs,
    });
    expect(text).toMatch(/^slotsync render — print\n\nUsage:\n {2}slotsync render --schema <file>\n/);
    expect(text).toContain("      --schema <file>");
    expect(text).toContain("  -h, --help");
    expect(text).toContain("--env-file <file>");
  });
});
