/** Checks and readers that the settings of every sink kind share. */
import { ConfigError } from "../errors";

/** One thing wrong with a sink configuration. */
export interface SinkConfigProblem {
  /** The setting, e.g. `sink.chunkSize` or `sink.auth.password`. */
  where: string;
  message: string;
}

/** Records one problem with a setting, named by `where`. */
export type AddProblem = (where: string, message: string) => void;

/** Reports a setting that is set but is not a whole number from `min` to `max`. */
export function checkWholeNumber(
  value: unknown,
  where: string,
  min: number,
  max: number,
  add: AddProblem,
): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    add(where, `must be a whole number from ${min} to ${max}`);
  }
}

/** The request and retry settings of every HTTP sink. */
export interface RequestTuning {
  requestTimeoutMs?: number;
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  writeDeadlineMs?: number;
}

/** Checks the request and retry settings, naming each bad one by its key. */
export function checkRequestTuning(config: RequestTuning, add: AddProblem): void {
  checkWholeNumber(config.requestTimeoutMs, "requestTimeoutMs", 1, 15 * 60_000, add);
  checkWholeNumber(config.maxRetries, "maxRetries", 0, 50, add);
  checkWholeNumber(config.baseDelayMs, "baseDelayMs", 0, 15 * 60_000, add);
  checkWholeNumber(config.maxDelayMs, "maxDelayMs", 0, 15 * 60_000, add);
  checkWholeNumber(config.writeDeadlineMs, "writeDeadlineMs", 1, 24 * 3_600_000, add);
  if (
    config.baseDelayMs !== undefined &&
    config.maxDelayMs !== undefined &&
    config.baseDelayMs > config.maxDelayMs
  )
    add("baseDelayMs", "must not be larger than maxDelayMs");
}

/**
 * Typed readers of environment variables that record a problem (named by the variable) instead
 * of throwing, so every bad variable is reported at once. Blank values count as unset.
 */
export function envReader(env: Readonly<Record<string, string | undefined>>, add: AddProblem) {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const bool = (name: string): boolean | undefined => {
    const value = get(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if (["true", "1", "yes", "on"].includes(value)) return true;
    if (["false", "0", "no", "off"].includes(value)) return false;
    add(name, "must be true or false");
    return undefined;
  };
  /** A non-negative number, multiplied by `scale` (e.g. seconds to milliseconds) and rounded. */
  const num = (name: string, scale = 1): number | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
      add(name, "must be a non-negative number");
      return undefined;
    }
    return Math.round(n * scale);
  };
  return { get, bool, num };
}

/**
 * Throws one `ConfigError` listing every problem (`where` is the first one), or returns when
 * there are none. Values are never echoed, so a misplaced secret does not end up in a log.
 */
export function throwSettingProblems(
  problems: readonly { where: string; message: string }[],
  fix: string,
): void {
  const first = problems[0];
  if (!first) return;
  throw new ConfigError(
    problems.length === 1
      ? first.message
      : `${problems.length} problems: ${problems.map((p) => `${p.where}: ${p.message}`).join("; ")}`,
    { where: first.where, fix, problems: problems.map((p) => ({ key: p.where, message: p.message })) },
  );
}
