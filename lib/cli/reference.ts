import type { CliCommand, FlagSpec, FlagSpecs } from "./command";
import { GLOBAL_FLAGS } from "./flags";

function flagHead(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "";
  const value = spec.type === "boolean" ? "" : ` ${spec.value ?? "<value>"}`;
  return `\`${short}--${name}${value}\``;
}

function flagRows(flags: FlagSpecs): string[] {
  return Object.entries(flags).map(
    ([name, spec]) => `| ${flagHead(name, spec)} | ${spec.description.replaceAll("|", "\\|")} |`,
  );
}

/**
 * Renders the CLI reference (Markdown) from the command registry: the same summaries, usage lines,
 * flags and descriptions that `slotsync <command> --help` prints, so the page cannot disagree with
 * the program. `npm run docs` writes it to `docs/reference/cli.md`.
 */
export function renderCliReference(commands: readonly CliCommand<FlagSpecs>[]): string {
  const out: string[] = [
    "# CLI reference",
    "",
    "<!-- Generated from the command registry (lib/cli/commands) by `npm run docs`; edit the commands, not this file. -->",
    "",
    "`npx slotsync <command> [flags]` from a clone (after `npm ci`; no build step), from any directory.",
    "`slotsync --help` lists the commands; `slotsync <command> --help` prints the same text as below.",
    "Configuration comes from the environment and a `.env` file: see the",
    "[configuration reference](configuration.md).",
    "",
    "| command | what it does |",
    "|---|---|",
    ...commands.map((command) => `| [\`${command.name}\`](#${command.name}) | ${command.summary} |`),
    "",
    "## Exit codes",
    "",
    "| code | meaning |",
    "|---|---|",
    "| 0 | ok (`run`: stopped cleanly) |",
    "| 1 | failure: database, search engine, queue or checkpoint store unreachable; slot missing or lost; index missing; credentials refused |",
    "| 2 | bad usage, configuration or schema, or unmet database prerequisites: fix the input and run again |",
    "| 130 / 143 | `run` stopped by a second SIGINT / SIGTERM before finishing (nothing lost) |",
    "",
    "`check-wal` uses 0–3 by severity. Errors are one line each: usage errors as",
    "`slotsync: unknown flag --idz for render (did you mean --ids?)`, configuration problems as",
    "`<VARIABLE> <message>`, schema problems as `<json path>: <message>`, and any other failure as",
    "`slotsync: <where>: <what> — <fix>`. Passwords and tokens are never printed.",
    "",
    "## Global flags",
    "",
    "| flag | meaning |",
    "|---|---|",
    ...flagRows(GLOBAL_FLAGS),
    "| `--version` | print the version |",
  ];
  for (const command of commands) {
    out.push(
      "",
      `## ${command.name}`,
      "",
      `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
      "",
    );
    out.push("```sh", ...command.usage.map((usage) => `slotsync ${usage}`), "```");
    const rows = flagRows(command.flags);
    if (rows.length > 0) out.push("", "| flag | meaning |", "|---|---|", ...rows);
    if (command.description) out.push("", "```text", command.description.trim(), "```");
  }
  return `${out.join("\n")}\n`;
}
