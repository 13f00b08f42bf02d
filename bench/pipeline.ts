/**
 * slotsync's pipeline as separate processes, the way Lambda runs it (bench/pipeline-worker.ts):
 * one poller and `consumers` consumer processes (the event source mapping's maximum concurrency),
 * with counters of what they did for the cost model.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface PipelineCounters {
  pollerInvocations: number;
  pollerMs: number;
  pollerChanges: number;
  consumerInvocations: number;
  consumerMs: number;
  consumerRecords: number;
  consumerFailedRecords: number;
  /** Each time a poller run took or released the slot's lease (ms since epoch). */
  leases: { event: "acquired" | "released"; token: number; at: number }[];
  /** The consumer handler's stats per batch (its "batch done" log line). */
  batches: BatchProfile[];
  errors: string[];
}

/** One consumer batch: its records and documents, its time, and the part spent waiting for `_bulk`. */
export interface BatchProfile {
  records: number;
  keys: number;
  documents: number;
  durationMs: number;
  requestMs: number;
  requests: number;
}

/** Where the consumers' time went over `seconds` with `consumers` processes, for the log. */
export function batchProfile(batches: BatchProfile[], consumers: number, seconds: number): string {
  if (batches.length === 0) return "no consumer batches";
  const sum = (f: (b: BatchProfile) => number) => batches.reduce((a, b) => a + f(b), 0);
  const busy = sum((b) => b.durationMs) / 1000;
  const bulk = sum((b) => b.requestMs) / 1000;
  const per = (v: number) => (v / batches.length).toFixed(1);
  const documents = sum((b) => b.documents);
  return `${Math.round(documents / seconds)} documents/s written, ${batches.length} consumer batches, ${per(sum((b) => b.records))} records, ${per(sum((b) => b.documents))} documents, ${per(sum((b) => b.requests))} _bulk requests each; busy ${((100 * busy) / (consumers * seconds)).toFixed(0)}% of ${consumers} consumers' time, of it ${((100 * bulk) / Math.max(busy, 0.001)).toFixed(0)}% waiting for _bulk answers`;
}

/** Lease hand-overs between poller runs: how many, and the longest time the slot had no holder. */
export interface HandOvers {
  count: number;
  /** Longest time from one run's release to the next run's take-over, in ms. */
  maxGapMs: number;
  gapsMs: number[];
}

/**
 * The hand-overs among `leases`: every take-over that follows another run's release, counted when
 * the take-over falls inside `window` (ms since epoch; all of them without one).
 */
export function handOvers(
  leases: PipelineCounters["leases"],
  window?: { from: number; to: number },
): HandOvers {
  const gapsMs: number[] = [];
  let released: number | undefined;
  for (const lease of leases) {
    if (lease.event === "released") released = lease.at;
    else if (released !== undefined) {
      if (!window || (lease.at >= window.from && lease.at <= window.to)) gapsMs.push(lease.at - released);
      released = undefined;
    }
  }
  return { count: gapsMs.length, maxGapMs: Math.max(0, ...gapsMs), gapsMs };
}

export interface Pipeline {
  readonly counters: PipelineCounters;
  reset(): void;
  /** Switches the poller between EventBridge-like scheduled invocations and back-to-back ones. */
  setMode(mode: "scheduled" | "continuous"): void;
  /** The live worker processes, for the CPU budget (bench/cpu.ts). */
  pids(): { pid: number; role: "poller" | "consumer" }[];
  stop(): Promise<void>;
}

const empty = (): PipelineCounters => ({
  pollerInvocations: 0,
  pollerMs: 0,
  pollerChanges: 0,
  consumerInvocations: 0,
  consumerMs: 0,
  consumerRecords: 0,
  consumerFailedRecords: 0,
  leases: [],
  batches: [],
  errors: [],
});

/** Starts the processes with `env` (the Lambdas' configuration) added to this process's environment. */
export function startPipeline(
  root: string,
  env: Record<string, string>,
  options: { consumers: number; mode: "scheduled" | "continuous" },
): Pipeline {
  let counters = empty();
  const children: { child: ChildProcess; role: "poller" | "consumer" }[] = [];
  const start = (role: "poller" | "consumer") => {
    const child = fork(join(root, "bench", "pipeline-worker.ts"), [], {
      cwd: root,
      // BENCH_CPU_PROF=<dir>: each process writes a V8 CPU profile there when it exits.
      execArgv: [
        "--import",
        "tsx",
        ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ],
      env: {
        ...process.env,
        ...env,
        BENCH_ROLE: role,
        BENCH_POLLER_MODE: options.mode,
        // The consumer handler's "batch done" lines carry its stats (batchProfile).
        ...(role === "consumer" ? { POWERTOOLS_LOG_LEVEL: "INFO" } : {}),
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof m.error === "string") {
        if (counters.errors.length < 20) counters.errors.push(`${role}: ${m.error}`);
        return;
      }
      const ms = Number(m.durationMs ?? 0);
      if (m.message === "batch done") {
        // The consumer handler's own log line (its stats): where a batch's time went.
        if (counters.batches.length < 100_000) {
          counters.batches.push({
            records: Number(m.records ?? 0),
            keys: Number(m.keys ?? 0),
            documents: Number(m.documents ?? 0),
            durationMs: Number(m.durationMs ?? 0),
            requestMs: Number(m.requestMs ?? 0),
            requests: Number(m.requests ?? 0),
          });
        }
        return;
      }
      if (m.role === "lease") {
        const event = m.event === "acquired" ? "acquired" : "released";
        counters.leases.push({ event, token: Number(m.token), at: Number(m.at) });
      } else if (m.role === "poller") {
        counters.pollerInvocations++;
        counters.pollerMs += ms;
        counters.pollerChanges += Number(m.changes ?? 0);
      } else if (m.role === "consumer") {
        counters.consumerInvocations++;
        counters.consumerMs += ms;
        counters.consumerRecords += Number(m.records ?? 0);
        counters.consumerFailedRecords += Number(m.failed ?? 0);
      }
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.once("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGTERM" && code !== null)
        counters.errors.push(`${role} exited ${code}: ${stderr.slice(-500)}`);
    });
    children.push({ child, role });
    return child;
  };
  const poller = start("poller");
  for (let i = 0; i < options.consumers; i++) start("consumer");
  return {
    get counters() {
      return counters;
    },
    reset() {
      counters = empty();
    },
    setMode(mode) {
      poller.send({ mode });
    },
    pids() {
      return children.flatMap(({ child, role }) =>
        child.pid !== undefined && child.exitCode === null ? [{ pid: child.pid, role }] : [],
      );
    },
    async stop() {
      await Promise.all(
        children.map(
          ({ child: c }) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const timer = setTimeout(() => c.kill("SIGKILL"), 10_000);
              c.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
              c.kill("SIGTERM");
            }),
        ),
      );
    },
  };
}
