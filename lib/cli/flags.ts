import { closest, SlotsyncError } from "../errors";
import type { FlagSpec, FlagSpecs, FlagValues } from "./command";

/**
 * The command line is wrong: an unknown command or flag, a missing or bad value. The CLI prints
 * `slotsync: <message> (<fix>)` and exits 2.
 */
export class UsageError extends SlotsyncError {}

/** Flags every command accepts. */
export const GLOBAL_FLAGS = {
  "env-file": {
    type: "string",
    value: "<file>",
    description: "read configuration from this file instead of ./.env (the environment still wins)",
  },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies FlagSpecs;

/**
 * Parses a command's arguments: `--name value`, `--name=value`, `-h`, booleans as bare `--name`
 * (or `--name=true|false`), `list` flags comma-separated and repeatable. Positional arguments are
 * refused: every command takes flags only, so a stray word is most likely a mistake.
 * @throws UsageError naming the flag and the fix.
 */
export function parseFlags<F extends FlagSpecs>(
  argv: readonly string[],
  specs: F,
  commandName: string,
): FlagValues<F> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs))
    values[name] = spec.type === "boolean" ? false : undefined;
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) shorts.set(spec.short, name);
  const help = `see slotsync ${commandName} --help`;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const long = shorts.get(arg.slice(1));
      if (!long) throw new UsageError(`unknown flag ${arg} for ${commandName}`, { fix: help });
      name = long;
    } else {
      const hint = arg === "--" ? "every value goes with a flag" : `flags start with --; ${help}`;
      throw new UsageError(`unexpected argument "${arg}" for ${commandName}`, { fix: hint });
    }
    const spec = specs[name];
    if (!spec) {
      const guess = closest(name, Object.keys(specs), { uniquePrefix: true });
      throw new UsageError(`unknown flag --${name} for ${commandName}`, {
        fix: guess ? `did you mean --${guess}?` : help,
      });
    }
    if (spec.type === "boolean") {
      if (inline === undefined) values[name] = true;
      else if (["true", "1", "yes"].includes(inline)) values[name] = true;
      else if (["false", "0", "no"].includes(inline)) values[name] = false;
      else throw new UsageError(`flag --${name} takes no value`, { fix: `write --${name} alone` });
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      raw = argv[i + 1];
      if (raw === undefined) {
        throw new UsageError(`flag --${name} of ${commandName} needs a value`, {
          fix: `write --${name} ${spec.value ?? "<value>"}`,
        });
      }
      i++;
    }
    values[name] = convert(name, spec, raw, values[name]);
  }
  return values as FlagValues<F>;
}

function convert(name: string, spec: FlagSpec, raw: string, previous: unknown): unknown {
  switch (spec.type) {
    case "number":
    case "integer": {
      const n = raw.trim() === "" ? Number.NaN : Number(raw);
      const bad =
        !Number.isFinite(n) ||
        (spec.type === "integer" && !Number.isInteger(n)) ||
        (spec.min !== undefined && n < spec.min) ||
        (spec.max !== undefined && n > spec.max);
      if (bad) {
        const kind = spec.type === "integer" ? "a whole number" : "a number";
        const range =
          spec.min !== undefined && spec.max !== undefined
            ? ` from ${spec.min} to ${spec.max}`
            : spec.min !== undefined
              ? ` of at least ${spec.min}`
              : "";
        throw new UsageError(`flag --${name} must be ${kind}${range}, got "${raw}"`, {
          fix: `write --${name} ${spec.value ?? "<number>"}`,
        });
      }
      return n;
    }
    case "list": {
      const items = raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      if (items.length === 0) {
        throw new UsageError(`flag --${name} needs at least one value`, {
          fix: `write --${name} ${spec.value ?? "a,b,c"}`,
        });
      }
      return [...((previous as string[] | undefined) ?? []), ...items];
    }
    default:
      if (raw === "")
        throw new UsageError(`flag --${name} needs a value`, { fix: `write --${name} <value>` });
      return raw;
  }
}

/** The help text of a command: summary, usage, flags (with the global ones), description. */
export function formatHelp(command: {
  name: string;
  summary: string;
  usage: readonly string[];
  description?: string;
  flags: FlagSpecs;
}): string {
  const lines = [`slotsync ${command.name} — ${command.summary}`, "", "Usage:"];
  for (const u of command.usage) lines.push(`  slotsync ${u}`);
  lines.push("", "Flags:");
  const all: [string, FlagSpec][] = [...Object.entries(command.flags), ...Object.entries(GLOBAL_FLAGS)];
  const heads = all.map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "boolean" ? "" : ` ${spec.value ?? "<value>"}`;
    return `${short}--${name}${value}`;
  });
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  all.forEach(([, spec], i) => {
    lines.push(`  ${(heads[i] ?? "").padEnd(width)}${spec.description}`);
  });
  if (command.description) lines.push("", command.description.trim());
  return `${lines.join("\n")}\n`;
}
