import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Counters the worker processes report on stdout, one JSON object per line. */
export interface WorkerCounters {
  pollerRuns: number;
  pollerErrors: number;
  batches: number;
  records: number;
  redelivered: number;
  failedRecords: number;
  consumerErrors: number;
  lastErrors: string[];
}

/** A worker that can be killed and restarted; it keeps counting across restarts. */
export class Worker {
  private child: ChildProcess | undefined;
  kills = 0;

  constructor(
    readonly role: "poller" | "consumer",
    private readonly env: Record<string, string>,
    private readonly counters: WorkerCounters,
  ) {}

  start(): void {
    const script = join(ROOT, `test/chaos/${this.role}-worker.ts`);
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, POWERTOOLS_LOG_LEVEL: "SILENT", NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    child.stdout?.on("data", (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) this.count(line);
    });
    child.stderr?.on("data", () => undefined);
    this.child = child;
  }

  /** SIGKILL: no cleanup, no lease release, no chance to finish a write. */
  kill(): void {
    if (this.child && running(this.child)) {
      this.child.kill("SIGKILL");
      this.kills++;
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !running(child)) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  private count(line: string): void {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const c = this.counters;
    if ("poller" in event) c.pollerRuns++;
    if ("pollerError" in event) {
      c.pollerErrors++;
      remember(c, String(event.pollerError));
    }
    if ("batch" in event) {
      c.batches++;
      c.records += Number(event.batch);
      c.redelivered += Number(event.redelivered);
      c.failedRecords += Number(event.failed);
    }
    if ("consumerError" in event) {
      c.consumerErrors++;
      remember(c, String(event.consumerError));
    }
  }
}

/** A child that ended by a signal has `signalCode` set and `exitCode` null. */
function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function remember(c: WorkerCounters, message: string): void {
  if (!c.lastErrors.includes(message)) c.lastErrors.push(message);
  if (c.lastErrors.length > 10) c.lastErrors.shift();
}
