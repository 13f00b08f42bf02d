import { type SpawnOptions, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { type ServiceContext, type ServiceName, ServiceStartError } from "./types";

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc). */
export function residentBytes(pid: number): number {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the name in field 2 may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we listed them.
    }
  }
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parentOf) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const p of tree) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (match?.[1]) total += Number(match[1]) * 1024;
    } catch {
      // Gone.
    }
  }
  return total;
}

export interface DetachedOptions {
  name: ServiceName;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this account (only possible when we are root). */
  user?: ServiceContext["serviceUser"];
}

/**
 * Starts a server that outlives this process (its own process group, output to a log file),
 * so `services start` can return and a later `services stop` can end it.
 */
export function spawnDetached(options: DetachedOptions): number {
  const out = openSync(options.logFile, "a");
  const spawnOptions: SpawnOptions = {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  };
  if (options.user) {
    spawnOptions.uid = options.user.uid;
    spawnOptions.gid = options.user.gid;
    spawnOptions.env = { ...spawnOptions.env, HOME: options.user.home, USER: options.user.name };
  }
  const child = spawn(options.command, options.args, spawnOptions);
  closeSync(out);
  if (child.pid === undefined) {
    throw new ServiceStartError(
      options.name,
      `could not run ${options.command}`,
      "check that it is installed",
    );
  }
  child.unref();
  return child.pid;
}

/** Polls `check` until it is true, the process died, or the deadline passed. */
export async function waitUntil(
  name: ServiceName,
  check: () => Promise<boolean>,
  options: { pid?: number; timeoutMs: number; logFile?: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (options.pid !== undefined && !pidAlive(options.pid)) {
      throw new ServiceStartError(
        name,
        `exited during start-up${logTail(options.logFile)}`,
        `read ${options.logFile}`,
      );
    }
    if (Date.now() > deadline) {
      // Do not leave a half-started server behind holding the port.
      if (options.pid !== undefined) await stopProcess(options.pid, 5000);
      throw new ServiceStartError(
        name,
        `not healthy after ${options.timeoutMs / 1000}s${logTail(options.logFile)}`,
        `read ${options.logFile}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
}

function logTail(logFile: string | undefined): string {
  if (!logFile) return "";
  try {
    const lines = readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n    ");
    return lines ? `; last log lines:\n    ${lines}\n` : "";
  } catch {
    return "";
  }
}

/** Ends a process group: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 15_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  if (!pidAlive(pid)) return;
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid)) signal("SIGKILL");
}

/** Runs a command to completion, returning stdout; throws with stderr on failure. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; user?: ServiceContext["serviceUser"] } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const spawnOptions: SpawnOptions = { env: { ...process.env, ...options.env }, cwd: options.cwd };
    if (options.user) {
      spawnOptions.uid = options.user.uid;
      spawnOptions.gid = options.user.gid;
      spawnOptions.env = { ...spawnOptions.env, HOME: options.user.home };
    }
    const child = spawn(command, args, { ...spawnOptions, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`${command} ${args.join(" ")} exited ${code}: ${(stderr || stdout).trim().slice(-2000)}`),
        );
    });
  });
}

/** True when `command` is on the PATH. */
export async function hasCommand(command: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}
