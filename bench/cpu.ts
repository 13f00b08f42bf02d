/**
 * Where the machine's CPU went during a steady-state step, per process group: the engine, the
 * database's backends by who uses them (the load, the poller, the consumers), the pipeline's Node
 * processes, the queue, this benchmark process. Read from `/proc` (Linux): each process's
 * utime + stime, sampled every second, so a step's window can be cut out afterwards.
 */
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { STATE_FILE } from "../tools/services";

/** Cores used per group over a window, plus the machine's total and how many cores it has. */
export interface CpuBudget {
  groups: Record<string, number>;
  machine: number;
  cores: number;
}

interface Sample {
  at: number;
  ticks: Map<number, number>;
  /** The machine's busy ticks, all CPUs (from /proc/stat). */
  busy: number;
}

/** Processes of the pipeline, by role (pids of the forked workers). */
export type PipelinePids = () => { pid: number; role: "poller" | "consumer" }[];

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux
/** `application_name` of the sampler's own database session. */
const SESSION_NAME = "slotsync-bench-cpu";

/**
 * Samples every second while started. `budget(window)` gives the cores each group used between the
 * samples nearest the window's ends. A process that started inside the window counts from zero; one
 * that ended inside it counts up to its last sample (the load's connections close with the load).
 * Groups are read every 5 s while sampling, so a process keeps the group it had while it lived.
 */
export class CpuSampler {
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly known = new Map<number, string>();
  private reading: Promise<void> | undefined;
  private session: Promise<pg.Client> | undefined;
  private count = 0;

  /** `databaseUrl`: any database of the server (its sessions are read from `pg_stat_activity`). */
  constructor(
    private readonly databaseUrl: string,
    private readonly pipeline: PipelinePids,
  ) {}

  /** False where `/proc` is missing (not Linux): the budget is then left out. */
  static available(): boolean {
    try {
      readFileSync("/proc/stat", "utf8");
      return true;
    } catch {
      return false;
    }
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  /** Reads the groups unless a read is under way; failures leave the groups known so far. */
  private refresh(): Promise<void> {
    this.reading ??= this.groups()
      .then((groups) => {
        for (const [pid, group] of groups) this.known.set(pid, group);
      })
      .catch(() => undefined)
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.reading;
    const session = this.session;
    this.session = undefined;
    await session?.then((c) => c.end()).catch(() => undefined);
  }

  /** The budget of `window` (ms since epoch); forgets the samples before its end. */
  async budget(window: { from: number; to: number }): Promise<CpuBudget | undefined> {
    this.sample();
    const first = [...this.samples].reverse().find((s) => s.at <= window.from) ?? this.samples[0];
    const last = this.samples.find((s) => s.at >= window.to) ?? this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return undefined;
    const seconds = (last.at - first.at) / 1000;
    await this.refresh();
    // Each process's last ticks inside the window: a process that ended keeps what it had used.
    const latest = new Map<number, number>();
    for (const sample of this.samples) {
      if (sample.at <= first.at || sample.at > last.at) continue;
      for (const [pid, ticks] of sample.ticks) latest.set(pid, ticks);
    }
    const used = new Map<string, number>();
    let accounted = 0;
    for (const [pid, ticks] of latest) {
      const delta = ticks - (first.ticks.get(pid) ?? 0);
      if (delta <= 0) continue;
      const group = this.known.get(pid) ?? "other processes";
      used.set(group, (used.get(group) ?? 0) + delta);
      accounted += delta;
    }
    const machineTicks = last.busy - first.busy;
    const others = machineTicks - accounted;
    if (others > 0) used.set("other processes", (used.get("other processes") ?? 0) + others);
    const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    const groups = Object.fromEntries(
      [...used].sort((a, b) => b[1] - a[1]).map(([group, ticks]) => [group, cores(ticks)]),
    );
    this.samples = this.samples.filter((s) => s.at >= last.at);
    return { groups, machine: cores(machineTicks), cores: cpuCount() };
  }

  private sample(): void {
    const ticks = new Map<number, number>();
    for (const [pid, stat] of processes()) ticks.set(pid, stat.ticks);
    this.samples.push({ at: Date.now(), ticks, busy: machineBusy() });
    if (this.count++ % 5 === 0) void this.refresh();
  }

  /** Each live process's group, from the service manager's pids and the database's sessions. */
  private async groups(): Promise<Map<number, string>> {
    const parents = new Map<number, number>();
    for (const [pid, stat] of processes()) parents.set(pid, stat.ppid);
    const under = (root: number, pid: number) => {
      for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
        if (p === root) return true;
      }
      return false;
    };
    // The service manager's record of what it started (its pids), without its health checks.
    const services = Object.values(
      (
        JSON.parse(readFileSync(STATE_FILE, "utf8")) as {
          services?: Record<string, { name: string; pid: number }>;
        }
      ).services ?? {},
    );
    const names: Record<string, string> = {
      elasticsearch: "Elasticsearch",
      postgres: "PostgreSQL: background",
      elasticmq: "ElasticMQ",
    };
    const groups = new Map<number, string>();
    for (const pid of parents.keys()) {
      const service = services.find((s) => under(s.pid, pid));
      if (service) groups.set(pid, names[service.name] ?? "other services");
    }
    // One session for the whole run, named so that its own backend counts as the benchmark's.
    this.session ??= (async () => {
      const client = new pg.Client({ connectionString: this.databaseUrl, application_name: SESSION_NAME });
      // A dropped connection fails the next query (handled below), not the process.
      client.on("error", () => undefined);
      await client.connect();
      return client;
    })();
    let sessions: { pid: number; application_name: string; backend_type: string }[];
    try {
      const client = await this.session;
      sessions = (await client.query("SELECT pid, application_name, backend_type FROM pg_stat_activity"))
        .rows;
    } catch (error) {
      // A session that failed to open or broke is opened again at the next read.
      const broken = this.session;
      this.session = undefined;
      await broken?.then((c) => c.end()).catch(() => undefined);
      throw error;
    }
    for (const s of sessions) {
      if (s.backend_type !== "client backend") continue;
      groups.set(
        s.pid,
        s.application_name === "slotsync-poller"
          ? "PostgreSQL: poller"
          : s.application_name === "slotsync-consumer"
            ? "PostgreSQL: consumers"
            : s.application_name === SESSION_NAME
              ? "benchmark"
              : "PostgreSQL: load",
      );
    }
    for (const { pid, role } of this.pipeline()) {
      const group = role === "poller" ? "Node: poller" : "Node: consumers";
      for (const p of parents.keys()) if (under(pid, p)) groups.set(p, group);
    }
    for (const p of parents.keys()) if (under(process.pid, p) && !groups.has(p)) groups.set(p, "benchmark");
    groups.set(process.pid, "benchmark");
    return groups;
  }
}

/** One line for the log: the groups above 0.01 cores, the machine's total. */
export function budgetLine(budget: CpuBudget): string {
  const parts = Object.entries(budget.groups)
    .filter(([, cores]) => cores >= 0.01)
    .map(([group, cores]) => `${group} ${cores.toFixed(2)}`);
  return `CPU (cores): ${parts.join(", ")}; machine ${budget.machine.toFixed(2)} of ${budget.cores}`;
}

/** Every live process's CPU ticks (utime + stime) and parent. */
function* processes(): Generator<[number, { ticks: number; ppid: number }]> {
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (stat) yield [pid, stat];
  }
}

function procStat(pid: number): { ticks: number; ppid: number } | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its ")".
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function machineBusy(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  // user nice system idle iowait irq softirq steal (guest time is counted in user already).
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return v.reduce((a, b) => a + b, 0) - (v[3] ?? 0) - (v[4] ?? 0);
}

function cpuCount(): number {
  return readFileSync("/proc/stat", "utf8")
    .split("\n")
    .filter((l) => /^cpu\d/.test(l)).length;
}
