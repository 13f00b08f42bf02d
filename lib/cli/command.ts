import type { ConfigFor, ConfigNeeds, Env } from "../config";

/** How a flag's value is read. `list` takes comma-separated values (and may be repeated). */
export type FlagType = "boolean" | "string" | "number" | "integer" | "list";

/** One flag of a command, as `--name` (kebab-case) on the command line. */
export interface FlagSpec {
  type: FlagType;
  /** One-letter alias, without the dash (`h` for `-h`). */
  short?: string;
  /** Placeholder in the help text, e.g. `<file|url>`. */
  value?: string;
  /** One line for the help text; say the default and the environment variable it overrides. */
  description: string;
  /** Bounds for `number` and `integer` flags. */
  min?: number;
  max?: number;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** The parsed value of a flag: absent flags are `undefined`, booleans `false`. */
export type FlagValue<S extends FlagSpec> = S["type"] extends "boolean"
  ? boolean
  : S["type"] extends "number" | "integer"
    ? number | undefined
    : S["type"] extends "list"
      ? string[] | undefined
      : string | undefined;

export type FlagValues<F extends FlagSpecs> = { -readonly [K in keyof F]: FlagValue<F[K]> };

/** A writable text stream (process.stdout in the CLI, a buffer in tests). */
export interface TextOutput {
  write(text: string): boolean;
  /** True when a person is watching: readable output, progress bars. */
  readonly isTTY?: boolean;
  once?(event: "drain", listener: () => void): unknown;
}

/** What the CLI gets from its process: arguments aside, everything a command may touch. */
export interface CliIo {
  /** The process environment (not yet merged with `.env`). */
  env: Env;
  cwd: string;
  stdout: TextOutput;
  stderr: TextOutput;
  /** Aborted on the first SIGINT/SIGTERM (graceful stop); commands that are not graceful just exit. */
  signal?: AbortSignal;
  /** Reads a text file (the `.env` file, CA certificates); `node:fs` by default. */
  readFile?: (path: string) => string;
  /** Milliseconds since the epoch; replaceable in tests. */
  now?: () => number;
}

/** What a command's `run` receives. */
export interface CommandContext<F extends FlagSpecs = FlagSpecs> {
  command: CliCommand<F>;
  flags: FlagValues<F>;
  /** The environment merged with the `.env` file (environment wins), flags applied. */
  env: Env;
  cwd: string;
  stdout: TextOutput;
  stderr: TextOutput;
  signal: AbortSignal;
  now: () => number;
  readFile: (path: string) => string;
  /** Reads and checks the configuration the command needs. @throws ConfigError */
  config<const N extends ConfigNeeds>(needs: N): ConfigFor<N>;
}

/**
 * One `slotsync` command: a module `lib/cli/commands/<name>.ts` exports one of these, and
 * `lib/cli/main.ts` lists it. `run` returns the exit code; errors it throws are reported by the
 * framework (config problems and usage errors exit 2, other failures 1).
 */
export interface CliCommand<F extends FlagSpecs = FlagSpecs> {
  name: string;
  /** One line, shown in `slotsync --help`. */
  summary: string;
  /** Synopsis lines without the leading `slotsync `, e.g. `render --schema <file> [--ids a,b]`. */
  usage: string[];
  /** Paragraphs shown under the usage in `--help`: what it does, exit codes, environment. */
  description?: string;
  flags: F;
  /**
   * Flags that override an environment variable: the value is put into the environment before
   * the configuration is read, so the same checks apply (`schema` → `SCHEMA`).
   */
  flagEnv?: Partial<Record<keyof F & string, string>>;
  /**
   * True when the command stops gracefully on the first SIGINT/SIGTERM (it watches
   * `ctx.signal`); otherwise the first signal ends the process at once.
   */
  graceful?: boolean;
  run(ctx: CommandContext<F>): Promise<number>;
}

/** Declares a command with its flag types inferred from `flags`. */
export function defineCommand<F extends FlagSpecs>(command: CliCommand<F>): CliCommand<F> {
  return command;
}

/** Exit codes of every command (check-wal adds its own severities 0-3). */
export const EXIT = {
  ok: 0,
  /** Something failed: the database, the search engine, the queue. */
  failure: 1,
  /** Bad usage, configuration or schema: fix the input and run again. */
  usage: 2,
} as const;
