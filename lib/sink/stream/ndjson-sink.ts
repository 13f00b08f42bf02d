import { type FileHandle, open } from "node:fs/promises";
import { systemRuntime } from "../backoff";
import type { StreamSink } from "../contract";
import { SinkError } from "../errors";
import type { StreamOperation, WriteOptions, WriteResult } from "../types";
import { WriteLedger } from "../write-core";
import type { NdjsonSinkConfig } from "./config";
import { validateStreamSinkConfig } from "./config";
import { encodeStreamRecord } from "./record-format";

/** A text stream such as `process.stdout` (or the CLI's stdout). */
export interface TextStream {
  write(text: string): boolean;
  once?(event: "drain", listener: () => void): unknown;
}

/** Optional collaborators of `createNdjsonSink`. */
export interface NdjsonSinkDependencies {
  /** Where `path: "-"` (or no path) writes; `process.stdout` by default. */
  stdout?: TextStream;
  now?: () => number;
}

/**
 * Creates the NDJSON sink: one stream record (see `encodeStreamRecord`) per operation and line,
 * to stdout or appended to a file. Useful for debugging (`slotsync run` with `SINK=ndjson`) and
 * for feeding other systems (a file tailed by a log shipper, a pipe into a script).
 *
 * A file is opened for appending on the first write and flushed to disk (`fdatasync`) before
 * `write` returns, so an operation reported `ok` survives a crash of this process. Writes of
 * concurrent `write` calls never interleave within a line. Throws `ConfigError` for a bad config.
 */
export function createNdjsonSink(config: NdjsonSinkConfig, deps: NdjsonSinkDependencies = {}): NdjsonSink {
  validateStreamSinkConfig(config);
  return new NdjsonSink(config, deps);
}

/** The NDJSON sink; see `createNdjsonSink`. */
export class NdjsonSink implements StreamSink {
  readonly engine = "ndjson" as const;
  readonly target: string;
  private readonly path: string | undefined;
  private readonly stdout: TextStream | undefined;
  private readonly now: () => number;
  private file: Promise<FileHandle> | undefined;
  /** The previous write's completion: writes are serialized so lines never interleave. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(config: NdjsonSinkConfig, deps: NdjsonSinkDependencies = {}) {
    this.path = config.path === undefined || config.path.trim() === "-" ? undefined : config.path;
    this.stdout = this.path === undefined ? (deps.stdout ?? process.stdout) : undefined;
    this.target = this.path ?? "stdout";
    this.now = deps.now ?? Date.now;
  }

  write<O extends StreamOperation>(ops: readonly O[], _options?: WriteOptions): Promise<WriteResult<O>> {
    const run = this.tail.then(() => this.writeNow(ops));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeNow<O extends StreamOperation>(ops: readonly O[]): Promise<WriteResult<O>> {
    if (this.closed) throw new SinkError("the NDJSON sink is closed", { errorType: "closed" });
    // A local write has no deadline and no retries: it either reaches the file or it does not.
    const ledger = new WriteLedger(
      ops,
      { ...systemRuntime, now: this.now },
      {
        writeDeadlineMs: Number.POSITIVE_INFINITY,
      },
    );
    const lines: string[] = [];
    const sent: number[] = [];
    ops.forEach((op, i) => {
      const encoded = encodeStreamRecord(op);
      if ("invalid" in encoded) {
        ledger.finish(i, "rejected", { errorType: "invalid_operation", reason: encoded.invalid });
      } else {
        lines.push(`${encoded.json}\n`);
        sent.push(i);
      }
    });
    const text = lines.join("");
    if (!text) return ledger.result();
    try {
      await this.append(text);
      ledger.sending(sent, Buffer.byteLength(text));
      ledger.finish(sent, "ok");
    } catch (error) {
      ledger.sending(sent, 0);
      ledger.finish(sent, "retryable", {
        errorType: "io",
        reason: `cannot write to ${this.target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      });
    }
    return ledger.result();
  }

  private async append(text: string): Promise<void> {
    if (this.stdout) {
      const out = this.stdout;
      if (!out.write(text) && out.once) await new Promise<void>((resolve) => out.once?.("drain", resolve));
      return;
    }
    this.file ??= open(this.path as string, "a");
    let handle: FileHandle;
    try {
      handle = await this.file;
    } catch (error) {
      // Opened again on the next write: the directory may be created meanwhile.
      this.file = undefined;
      throw error;
    }
    await handle.write(text);
    await handle.datasync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    const file = this.file;
    this.file = undefined;
    if (file) await (await file.catch(() => undefined))?.close();
  }
}
