/**
 * The base of every error slotsync raises on purpose.
 *
 * Each module derives its own class (`SchemaError`, `SinkError`, ...) so callers can tell
 * where a failure came from, whether retrying can help, and what the operator should do.
 */
export interface SlotsyncErrorOptions {
  /** The underlying error, kept for logs and debugging. */
  cause?: unknown;
  /** True when the same call may succeed later without anyone changing anything. */
  retryable?: boolean;
  /** What the operator should do about it, in one sentence. */
  fix?: string;
  /** Where the problem is: a JSON path, a table, a key, an environment variable. */
  where?: string;
}

export class SlotsyncError extends Error {
  readonly retryable: boolean;
  readonly fix: string | undefined;
  readonly where: string | undefined;

  constructor(message: string, options: SlotsyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.fix = options.fix;
    this.where = options.where;
  }

  /** One line for a terminal or a log: `<where>: <message> (<fix>)`. */
  toLine(): string {
    const head = this.where ? `${this.where}: ${this.message}` : this.message;
    return this.fix ? `${head} — ${this.fix}` : head;
  }
}

/** One problem with one setting: the variable and what is wrong with it (never its value). */
export interface ConfigProblemEntry {
  key: string;
  message: string;
}

/**
 * Bad or missing configuration, found at start-up. `where` names the (first) setting; `problems`
 * lists every one, so callers never have to split the message (a message may contain "; ").
 */
export class ConfigError extends SlotsyncError {
  readonly problems: readonly ConfigProblemEntry[];

  constructor(
    message: string,
    options: SlotsyncErrorOptions & { problems?: readonly ConfigProblemEntry[] } = {},
  ) {
    super(message, options);
    this.problems = options.problems ?? [];
  }
}

/** True when `err` says a retry may help (a slotsync error marked retryable). */
export function isRetryable(err: unknown): boolean {
  return err instanceof SlotsyncError && err.retryable;
}
export { closest, didYouMean, editDistance } from "./suggest";
