import { ConfigError } from "../errors";
import { plainHttpProblem } from "../security";

/** The environment as a plain map (process.env in handlers and the CLI, a literal in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** One problem with one setting. */
export interface ConfigProblem {
  /** The environment variable. */
  key: string;
  message: string;
}

/**
 * Reads typed values from an environment map, collecting every problem instead of stopping at the
 * first, so a user fixes their configuration in one go. Values are never echoed in messages:
 * a secret pasted into the wrong variable must not reach a log.
 */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(readonly env: Env) {}

  /** A trimmed string, undefined when unset or empty. */
  string(key: string): string | undefined {
    const value = this.env[key]?.trim();
    return value ? value : undefined;
  }

  required(key: string, hint: string): string {
    const value = this.string(key);
    if (value === undefined) this.problems.push({ key, message: `is required: ${hint}` });
    return value ?? "";
  }

  /**
   * A URL of one of `protocols`. With `carries` (what the connection sends: a token, a password),
   * plain http is refused except to this machine.
   */
  url(key: string, protocols: readonly string[], carries?: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol.replace(/:$/, ""))) {
        this.problems.push({ key, message: `must be a ${protocols.join(" or ")} URL` });
      } else if (carries) {
        const insecure = plainHttpProblem(value, carries);
        if (insecure) this.problems.push({ key, message: insecure });
      }
    } catch {
      this.problems.push({ key, message: `is not a valid URL (expected ${protocols.join(" or ")}://...)` });
    }
    return value;
  }

  number(key: string, fallback: number, range: { min: number; max: number; integer?: boolean }): number {
    const value = this.string(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || n < range.min || n > range.max) {
      const kind = range.integer ? "a whole number" : "a number";
      this.problems.push({ key, message: `must be ${kind} from ${range.min} to ${range.max}` });
      return fallback;
    }
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.string(key)?.toLowerCase();
    if (value === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(value)) return true;
    if (["0", "false", "no", "off"].includes(value)) return false;
    this.problems.push({ key, message: "must be true or false" });
    return fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(key);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push({ key, message: `must be one of ${allowed.join(", ")}` });
      return fallback;
    }
    return value as T;
  }

  problem(key: string, message: string): void {
    this.problems.push({ key, message });
  }

  /** Throws one ConfigError naming every bad setting. */
  throwIfProblems(): void {
    const first = this.problems[0];
    if (!first) return;
    const lines = this.problems.map((p) => `${p.key} ${p.message}`);
    throw new ConfigError(
      lines.length === 1 ? (lines[0] ?? "") : `${lines.length} configuration problems: ${lines.join("; ")}`,
      {
        where: first.key,
        fix: "set the variables in the environment or a .env file (see docs/reference/configuration.md)",
        problems: [...this.problems],
      },
    );
  }
}
