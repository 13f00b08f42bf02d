import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../config";
import { closest } from "../errors";
import { type CliCommand, type CliIo, type CommandContext, EXIT, type FlagSpecs } from "./command";
import { bootstrap } from "./commands/bootstrap";
import { checkWalCommand } from "./commands/check-wal";
import { migrateFromPgsync } from "./commands/migrate-from-pgsync";
import { reconcile } from "./commands/reconcile";
import { redrive } from "./commands/redrive";
import { render } from "./commands/render";
import { reset } from "./commands/reset";
import { run } from "./commands/run";
import { status } from "./commands/status";
import { validate } from "./commands/validate";
import { verify } from "./commands/verify";
import { loadCliEnv } from "./env-file";
import { reportError } from "./errors";
import { formatHelp, GLOBAL_FLAGS, parseFlags, UsageError } from "./flags";
import { formatTable } from "./output";

/**
 * Every `slotsync` command, in the order `--help` lists them. A command is one module under
 * `lib/cli/commands/` exporting a {@link CliCommand}; add it here to register it.
 */
export const COMMANDS: readonly CliCommand<FlagSpecs>[] = [
  validate,
  bootstrap,
  render,
  reconcile,
  verify,
  run,
  status,
  checkWalCommand,
  redrive,
  reset,
  migrateFromPgsync,
];

const EXIT_CODES = `Exit codes: 0 ok; 1 failure (database, search engine, queue, slot); 2 bad usage, configuration
or schema (fix the input and run again). check-wal reports 0-3 by severity.

Configuration comes from the environment and a .env file in the working directory (or
--env-file FILE); a variable set in the environment wins over the file.`;

/** The top-level help: every command with its summary. */
export function topHelp(commands: readonly CliCommand<FlagSpecs>[] = COMMANDS): string {
  const rows = commands.map((c) => [`  ${c.name}`, c.summary]);
  return [
    "slotsync — keep Elasticsearch/OpenSearch in sync with PostgreSQL",
    "",
    "Usage: slotsync <command> [flags]",
    "       slotsync <command> --help",
    "",
    "Commands:",
    formatTable(rows),
    "",
    "Global flags:",
    "  --env-file <file>  read configuration from this file instead of ./.env",
    "  -h, --help         show help",
    "  --version          print the version",
    "",
    EXIT_CODES,
    "",
  ].join("\n");
}

/** Hooks of the process boundary: which command runs, so signals can be handled to suit it. */
export interface MainHooks {
  onCommand?(command: CliCommand<FlagSpecs>): void;
}

/**
 * Runs the CLI with the given arguments (without `node` and the script) and returns the exit
 * code. Reads nothing from the process itself: environment, streams and signal come in `io`.
 */
export async function main(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CliCommand<FlagSpecs>[] = COMMANDS,
  hooks: MainHooks = {},
): Promise<number> {
  try {
    let i = 0;
    let envFile: string | undefined;
    // Global flags may come before the command.
    for (; i < argv.length && (argv[i] as string).startsWith("-"); i++) {
      const arg = argv[i] as string;
      if (arg === "-h" || arg === "--help") {
        io.stdout.write(topHelp(commands));
        return EXIT.ok;
      }
      if (arg === "--version") {
        io.stdout.write(`slotsync ${version()}\n`);
        return EXIT.ok;
      }
      if (arg === "--env-file" && argv[i + 1] !== undefined) envFile = argv[++i];
      else if (arg.startsWith("--env-file=")) envFile = arg.slice("--env-file=".length);
      else {
        throw new UsageError(`unknown flag ${arg}`, {
          fix: "write the command first: slotsync <command> [flags]; see slotsync --help",
        });
      }
    }
    const name = argv[i];
    if (name === undefined) {
      io.stderr.write(topHelp(commands));
      return EXIT.usage;
    }
    if (name === "help") {
      const target = argv[i + 1];
      if (target === undefined) {
        io.stdout.write(topHelp(commands));
        return EXIT.ok;
      }
      io.stdout.write(formatHelp(findCommand(commands, target)));
      return EXIT.ok;
    }
    const command = findCommand(commands, name);
    const flags = parseFlags(argv.slice(i + 1), { ...command.flags, ...GLOBAL_FLAGS }, name) as Record<
      string,
      unknown
    >;
    if (flags.help === true) {
      io.stdout.write(formatHelp(command));
      return EXIT.ok;
    }
    hooks.onCommand?.(command);
    const readFile = io.readFile ?? ((path: string) => readFileSync(path, "utf8"));
    const { env } = loadCliEnv({
      env: io.env,
      cwd: io.cwd,
      envFile: (flags["env-file"] as string | undefined) ?? envFile,
      readFile,
    });
    for (const [flag, variable] of Object.entries(command.flagEnv ?? {})) {
      const value = flags[flag];
      if (variable && value !== undefined && value !== false) env[variable as string] = String(value);
    }
    // PGSync variables with no effect are named once, however often the command reads its config.
    let warned = false;
    const ctx: CommandContext<FlagSpecs> = {
      command,
      flags: flags as CommandContext<FlagSpecs>["flags"],
      env,
      cwd: io.cwd,
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal ?? new AbortController().signal,
      now: io.now ?? Date.now,
      readFile,
      config: (needs) => {
        const config = loadConfig(env, needs, { readFile });
        if (!warned) {
          warned = true;
          for (const w of config.warnings) io.stderr.write(`slotsync: warning: ${w.key} ${w.message}\n`);
        }
        return config;
      },
    };
    return await command.run(ctx);
  } catch (error) {
    return reportError(error, io.stderr);
  }
}

function findCommand(commands: readonly CliCommand<FlagSpecs>[], name: string): CliCommand<FlagSpecs> {
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  const guess = closest(
    name,
    commands.map((c) => c.name),
    { uniquePrefix: true },
  );
  throw new UsageError(`unknown command "${name}"`, {
    fix: guess ? `did you mean ${guess}?` : `the commands are ${commands.map((c) => c.name).join(", ")}`,
  });
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The process boundary: arguments, environment and streams of this process, signal handling, and
 * the exit code. A graceful command (`run`) stops cleanly on the first SIGINT/SIGTERM and exits at
 * once on the second; other commands exit at once on the first.
 */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let graceful = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (graceful && !controller.signal.aborted) {
      controller.abort(signal);
      return;
    }
    if (graceful) {
      process.stderr.write(
        "slotsync: stopped before finishing; changes not yet indexed are read from the slot again next time\n",
      );
    }
    process.exit(SIGNAL_EXIT[signal] ?? 1);
  };
  // The AWS SDK warns on every Node 20 process that later SDK releases will need Node 22; on a
  // CLI that line breaks JSON logs and says nothing about the command. Lambdas still see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // `slotsync render | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
    throw error;
  });
  const code = await main(
    argv,
    {
      env: process.env,
      cwd: process.cwd(),
      stdout: process.stdout,
      stderr: process.stderr,
      signal: controller.signal,
    },
    COMMANDS,
    {
      onCommand(command) {
        graceful = command.graceful === true;
      },
    },
  );
  process.exitCode = code;
  // Everything is closed by now; should a stray handle keep the loop alive, do not hang.
  setTimeout(() => process.exit(code), 2000).unref();
}

// `node --import tsx lib/cli/main.ts ...` runs the CLI directly (bin/slotsync.js imports runCli).
if (isEntryPoint(process.argv[1])) await runCli();

function isEntryPoint(entry: string | undefined): boolean {
  try {
    return entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}
