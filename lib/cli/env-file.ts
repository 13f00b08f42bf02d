import { isAbsolute, join } from "node:path";
import * as util from "node:util";
import type { Env } from "../config";
import { UsageError } from "./flags";

export interface CliEnvOptions {
  /** The process environment. */
  env: Env;
  cwd: string;
  /** `--env-file`: must exist when given. Without it `.env` in `cwd` is read when present. */
  envFile?: string | undefined;
  readFile: (path: string) => string;
}

export interface CliEnv {
  /** The file's variables overlaid by the environment's: a variable set in the environment wins. */
  env: Record<string, string | undefined>;
  /** The file that was read, if any. */
  file: string | undefined;
}

/**
 * The configuration a command sees: the process environment over the variables of a `.env` file
 * (`--env-file F`, or `.env` in the working directory when present). A variable present in the
 * environment wins even when empty, as with dotenv, so `PG_URL= slotsync status` unsets a value
 * the file gives. The file is parsed with Node's own `util.parseEnv` (Node 20.12+).
 * @throws UsageError when `--env-file` names a file that cannot be read.
 */
export function loadCliEnv(options: CliEnvOptions): CliEnv {
  const explicit = options.envFile !== undefined;
  const path = explicit
    ? isAbsolute(options.envFile as string)
      ? (options.envFile as string)
      : join(options.cwd, options.envFile as string)
    : join(options.cwd, ".env");
  let text: string | undefined;
  try {
    text = options.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (explicit) {
      throw new UsageError(
        code === "ENOENT"
          ? `env file ${options.envFile} does not exist`
          : `cannot read env file ${options.envFile}`,
        { fix: "check the path given to --env-file", cause: error },
      );
    }
    // No .env in the working directory is the normal case; an unreadable one is worth saying.
    if (code !== "ENOENT") {
      throw new UsageError(`cannot read ${path}`, {
        fix: "fix its permissions, or pass --env-file to read another file",
        cause: error,
      });
    }
  }
  const env: Record<string, string | undefined> = text === undefined ? {} : parseEnvText(text);
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  return { env, file: text === undefined ? undefined : path };
}

/** `KEY=value` lines as Node parses them (quotes, `export`, comments, multi-line quoted values). */
export function parseEnvText(text: string): Record<string, string> {
  const parse = (util as { parseEnv?: (content: string) => Record<string, string | undefined> }).parseEnv;
  if (typeof parse !== "function") {
    throw new UsageError(`Node ${process.versions.node} cannot parse .env files`, {
      fix: "use Node 20.12 or newer",
    });
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parse(text))) if (value !== undefined) out[key] = value;
  return out;
}
