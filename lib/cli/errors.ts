import { ConfigError, SlotsyncError } from "../errors";
import { SchemaError, SchemaLoadError } from "../schema";
import { EXIT, type TextOutput } from "./command";
import { UsageError } from "./flags";

/**
 * The problems of a ConfigError, one line per variable (`KEY message`), from its `problems` list;
 * an error without one (a single problem raised elsewhere) is its own line.
 */
export function configProblemLines(error: ConfigError): string[] {
  if (error.problems.length > 0) return error.problems.map((p) => `${p.key} ${p.message}`);
  return [error.toLine()];
}

/**
 * Prints an error the way every command reports it and returns the exit code:
 * usage errors `slotsync: <message> (<fix>)` and configuration problems `<VAR> <message>`, one per
 * line, exit 2; schema problems `<path>: <message>`, exit 2; anything else one line with the fix,
 * exit 1. Never prints a stack or a secret.
 */
export function reportError(error: unknown, stderr: TextOutput): number {
  if (error instanceof UsageError) {
    stderr.write(`slotsync: ${error.message}${error.fix ? ` (${error.fix})` : ""}\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    for (const line of configProblemLines(error)) stderr.write(`${line}\n`);
    return EXIT.usage;
  }
  if (error instanceof SchemaError) {
    for (const p of error.problems) stderr.write(`${p.path ? `${p.path}: ` : ""}${p.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof SchemaLoadError) {
    stderr.write(`slotsync: ${error.toLine()}\n`);
    return error.retryable ? EXIT.failure : EXIT.usage;
  }
  stderr.write(`slotsync: ${errorLine(error)}\n`);
  return EXIT.failure;
}

/** One line for any error: a slotsync error's own line, or the best that can be said of others. */
export function errorLine(error: unknown): string {
  if (error instanceof SlotsyncError) return error.toLine().replace(/\n/g, "; ");
  const e = error as { name?: string; message?: string; code?: string; hint?: string; $metadata?: unknown };
  if (e && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && "severity" in (e as object)) {
    // A PostgreSQL error: its message, and its hint when the server gave one.
    return `PostgreSQL: ${e.message}${e.hint ? ` — ${e.hint}` : ""}`;
  }
  if (e && e.$metadata !== undefined) return `AWS ${e.name ?? "error"}: ${e.message ?? ""}`;
  if (error instanceof Error) return (error.message || error.name).replace(/\n/g, "; ");
  return String(error);
}
