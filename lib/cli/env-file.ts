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
  if (text !== undefined) {
    const problem = unclosedQuote(text);
    if (problem) {
      throw new UsageError(
        `${explicit ? options.envFile : ".env"} line ${problem.line}: ${problem.message}`,
        {
          fix: problem.fix,
        },
      );
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

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;

/**
 * A quoted value whose quote does not close on its line. Node's parser lets a quoted value span
 * lines up to the next matching quote, so one forgotten quote silently swallows the variables
 * after it (or keeps the quote as part of the value). A value that really spans lines (a PEM
 * certificate) has no `KEY=` line inside it, so such a value is still accepted. Values are never
 * quoted in the message.
 */
export function unclosedQuote(text: string): { line: number; message: string; fix: string } | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const match = ASSIGNMENT.exec(lines[i] as string);
    const key = match?.[1];
    const value = match?.[2] ?? "";
    const quote = value[0];
    if (!key || (quote !== '"' && quote !== "'" && quote !== "`")) continue;
    if (closes(value.slice(1), quote)) continue;
    let end = -1;
    for (let j = i + 1; j < lines.length; j++) {
      if (closes(lines[j] as string, quote)) {
        end = j;
        break;
      }
    }
    const swallowed =
      end === -1 ? [] : lines.slice(i + 1, end + 1).filter((l) => ASSIGNMENT.test(l) && !/^\s*#/.test(l));
    if (end === -1 || swallowed.length > 0) {
      return {
        line: i + 1,
        message:
          end === -1
            ? `the value of ${key} opens a ${quote} quote that is never closed`
            : `the value of ${key} opens a ${quote} quote that closes only on line ${end + 1}, so the variables on lines ${i + 2}-${end + 1} would become part of it`,
        fix: `close the quote on line ${i + 1}`,
      };
    }
    i = end;
  }
  return undefined;
}

/** True when `text` holds `quote` not escaped by a backslash (only double quotes take escapes). */
function closes(text: string, quote: string): boolean {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === "\\" && quote === '"') k++;
    else if (text[k] === quote) return true;
  }
  return false;
}
