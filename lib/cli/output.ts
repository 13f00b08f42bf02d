import type { TextOutput } from "./command";

/** Writes text and waits while the stream's buffer is full, so a slow reader bounds our memory. */
export async function writeAwait(out: TextOutput, text: string): Promise<void> {
  if (out.write(text) || !out.once) return;
  await new Promise<void>((resolve) => out.once?.("drain", resolve));
}

export type LogLevel = "info" | "warn" | "error";

/** Log lines of long-running commands, on stderr: stdout stays for the command's output. */
export interface CliLogger {
  /** `event` names the line for machines, `text` is for people, `fields` go to JSON lines. */
  info(event: string, text: string, fields?: Record<string, unknown>): void;
  warn(event: string, text: string, fields?: Record<string, unknown>): void;
  error(event: string, text: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  out: TextOutput;
  /** Only warnings and errors. */
  quiet?: boolean;
  /** JSON lines; default: when `out` is not a terminal. */
  json?: boolean;
  now?: () => number;
}

/**
 * One line per event: `12:00:01 text` on a terminal, a JSON object per line otherwise (for log
 * collectors). bigint fields are written as decimal strings.
 */
export function createLogger(options: LoggerOptions): CliLogger {
  const json = options.json ?? !options.out.isTTY;
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, event: string, text: string, fields: Record<string, unknown> = {}) => {
    if (options.quiet && level === "info") return;
    const time = new Date(now()).toISOString();
    if (json) {
      const line = JSON.stringify({ time, level, event, msg: text, ...fields }, (_k, v: unknown) =>
        typeof v === "bigint" ? v.toString() : v,
      );
      options.out.write(`${line}\n`);
    } else {
      const tag = level === "info" ? "" : `${level}: `;
      options.out.write(`${time.slice(11, 19)} ${tag}${text}\n`);
    }
  };
  return {
    info: (event, text, fields) => emit("info", event, text, fields),
    warn: (event, text, fields) => emit("warn", event, text, fields),
    error: (event, text, fields) => emit("error", event, text, fields),
  };
}

/** Bytes in binary units: `512 B`, `1.5 KiB`, `3.2 GiB`. */
export function formatBytes(bytes: number | bigint | null | undefined): string {
  if (bytes === null || bytes === undefined) return "unknown";
  let value = Number(bytes);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `5 s`, `3 min`, `2 h 5 min`, for "12 s ago" and ETAs. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Rows of cells as aligned columns (two spaces apart), one line each. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}
