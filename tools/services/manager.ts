import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { elasticmq } from "./elasticmq";
import { moto } from "./moto";
import { postgres } from "./postgres";
import { pidAlive, portInUse, residentBytes, run, stopProcess } from "./process";
import { redis } from "./redis";
import { elasticsearch, opensearch } from "./search";
import {
  type RunningService,
  SERVICE_NAMES,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceEndpoints,
  type ServiceName,
  ServiceStartError,
} from "./types";
import { upstash } from "./upstash";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where the state of the running services is recorded (inside the work tree, git-ignored). */
export const STATE_FILE = join(REPO_ROOT, ".slotsync/services/state.json");
const LOCK_DIR = join(REPO_ROOT, ".slotsync/services/lock");

const DEFAULT_PORTS: Record<ServiceName, number> = {
  postgres: 55432,
  redis: 56379,
  upstash: 58079,
  elasticsearch: 59200,
  opensearch: 59201,
  elasticmq: 59324,
  moto: 55000,
};

const DEFINITIONS: { [N in ServiceName]: ServiceDefinition<N> } = {
  postgres,
  redis,
  upstash,
  elasticsearch,
  opensearch,
  elasticmq,
  moto,
};

/** Services that must be up before another starts. */
const NEEDS: Partial<Record<ServiceName, ServiceName[]>> = { upstash: ["redis"] };

export interface ServiceState {
  runDir: string;
  ports: Record<ServiceName, number>;
  services: Partial<Record<ServiceName, RunningService>>;
}

function ports(): Record<ServiceName, number> {
  const result = { ...DEFAULT_PORTS };
  for (const name of SERVICE_NAMES) {
    const override = process.env[`SLOTSYNC_PORT_${name.toUpperCase()}`];
    if (override) result[name] = Number(override);
  }
  return result;
}

function readState(): ServiceState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, "utf8")) as ServiceState;
  } catch {
    return undefined;
  }
}

function writeState(state: ServiceState): void {
  mkdirSync(join(STATE_FILE, ".."), { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Where downloads and extracted distributions are kept between runs (`SLOTSYNC_CACHE_DIR`). Servers
 * that refuse root (the search engines) run as an unprivileged account, which must be able to read
 * the extracted distributions: so root keeps them outside its private home.
 */
export function cacheDirectory(): string {
  const isRoot = process.getuid?.() === 0;
  return (
    process.env.SLOTSYNC_CACHE_DIR ?? (isRoot ? "/var/cache/slotsync" : join(homedir(), ".cache/slotsync"))
  );
}

async function context(log: (line: string) => void, state?: ServiceState): Promise<ServiceContext> {
  const isRoot = process.getuid?.() === 0;
  const cacheDir = cacheDirectory();
  const runDir = state?.runDir ?? join(tmpdir(), `slotsync-services-${process.getuid?.() ?? "user"}`);
  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  return {
    runDir,
    cacheDir,
    serviceUser: isRoot ? await serviceAccount() : undefined,
    ports: state?.ports ?? ports(),
    log,
  };
}

async function serviceAccount(): Promise<ServiceContext["serviceUser"]> {
  const name = "slotsync";
  const home = "/var/lib/slotsync";
  try {
    await run("id", ["-u", name]);
  } catch {
    await run("useradd", [
      "--system",
      "--home-dir",
      home,
      "--create-home",
      "--shell",
      "/usr/sbin/nologin",
      name,
    ]);
  }
  const uid = Number((await run("id", ["-u", name])).trim());
  const gid = Number((await run("id", ["-g", name])).trim());
  return { name, uid, gid, home };
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(LOCK_DIR, ".."), { recursive: true });
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, "pid"), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSafe(join(LOCK_DIR, "pid")));
      if (holder && !pidAlive(holder)) rmSync(LOCK_DIR, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`services lock held by pid ${holder}: remove ${LOCK_DIR}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

async function isUp(ctx: ServiceContext, running: RunningService | undefined): Promise<boolean> {
  if (!running || !pidAlive(running.pid)) return false;
  return DEFINITIONS[running.name].healthy(ctx as never).catch(() => false);
}

export interface EnsureResult {
  endpoints: ServiceEndpoints;
  /** The services this call started (the others were already running). */
  started: ServiceName[];
}

/**
 * Starts the named services (and what they need) unless they already run, idempotently.
 * Installs what is missing first. Throws ServiceStartError naming the service and the fix.
 */
export async function ensureServices(
  names: readonly ServiceName[] = SERVICE_NAMES,
  log: (line: string) => void = () => {},
): Promise<EnsureResult> {
  return withLock(async () => {
    const previous = readState();
    const ctx = await context(log, previous);
    const state: ServiceState = { runDir: ctx.runDir, ports: ctx.ports, services: { ...previous?.services } };
    const wanted = new Set<ServiceName>();
    const add = (n: ServiceName): void => {
      for (const dep of NEEDS[n] ?? []) add(dep);
      wanted.add(n);
    };
    names.forEach(add);

    const toStart: ServiceName[] = [];
    for (const name of wanted) {
      if (await isUp(ctx, state.services[name])) continue;
      delete state.services[name];
      if (await portInUse(ctx.ports[name])) {
        throw new ServiceStartError(
          name,
          `port ${ctx.ports[name]} is taken by another process`,
          `stop that process or choose another port with SLOTSYNC_PORT_${name.toUpperCase()}=<port>`,
        );
      }
      toStart.push(name);
    }
    // Installs one at a time: apt and Maven each hold a lock of their own.
    for (const name of toStart) await DEFINITIONS[name].install(ctx as never);

    const startOne = async (name: ServiceName): Promise<void> => {
      const begin = Date.now();
      log(`starting ${name} on port ${ctx.ports[name]}`);
      const info = await DEFINITIONS[name].start(ctx as never);
      const startMs = Date.now() - begin;
      state.services[name] = {
        name,
        port: ctx.ports[name],
        startedAt: new Date().toISOString(),
        startMs,
        ...info,
      };
      writeState(state);
      log(`${name} healthy after ${(startMs / 1000).toFixed(1)}s (${info.version})`);
    };
    const first = toStart.filter((n) => !NEEDS[n]);
    const later = toStart.filter((n) => NEEDS[n]);
    try {
      await settleAll(first.map(startOne));
      await settleAll(later.map(startOne));
    } finally {
      writeState(state);
    }
    return { endpoints: endpointsOf(ctx), started: toStart };
  });
}

/** Like Promise.all, but waits for every start so no server is left untracked. */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length === 1) throw failed[0]?.reason;
  if (failed.length > 1)
    throw new AggregateError(
      failed.map((f) => f.reason),
      failed.map((f) => String(f.reason)).join("\n"),
    );
}

function endpointsOf(ctx: ServiceContext): ServiceEndpoints {
  const result = {} as Record<ServiceName, unknown>;
  for (const name of SERVICE_NAMES) result[name] = DEFINITIONS[name].endpoint(ctx as never);
  return result as unknown as ServiceEndpoints;
}

/** Stops the named services (all by default) and removes their ephemeral data. */
export async function stopServices(
  names: readonly ServiceName[] = SERVICE_NAMES,
  log: (line: string) => void = () => {},
): Promise<void> {
  await withLock(async () => {
    const state = readState();
    if (!state) return;
    // Dependents first (the adapter before Redis).
    const order = [...names].sort((a, b) => Number(Boolean(NEEDS[b])) - Number(Boolean(NEEDS[a])));
    for (const name of order) {
      const running = state.services[name];
      if (!running) continue;
      log(`stopping ${name} (pid ${running.pid})`);
      await stopProcess(running.pid);
      if (running.dataDir !== state.runDir) rmSync(running.dataDir, { recursive: true, force: true });
      delete state.services[name];
      writeState(state);
    }
  });
}

/**
 * Endpoints of the real local services, started by the integration project's global setup
 * (test/setup/global-services.ts), by `npm run services -- start` or by the benchmarks.
 * @throws when none are recorded, naming how to start them.
 */
export function getServices(): ServiceEndpoints {
  const endpoints = recordedEndpoints();
  if (!endpoints) {
    throw new Error(
      "no local services recorded: run the integration tests through vitest, or `npm run services -- start`",
    );
  }
  return endpoints;
}

/** Endpoints of the services recorded as running (no check that they still answer). */
export function recordedEndpoints(): ServiceEndpoints | undefined {
  const state = readState();
  if (!state) return undefined;
  const ctx: ServiceContext = {
    runDir: state.runDir,
    cacheDir: "",
    serviceUser: undefined,
    ports: state.ports,
    log: () => {},
  };
  return endpointsOf(ctx);
}

export interface ServiceStatus extends RunningService {
  healthy: boolean;
  rssBytes: number;
}

/** The recorded services with their health and resident memory now. */
export async function serviceStatus(): Promise<ServiceStatus[]> {
  const state = readState();
  if (!state) return [];
  const ctx = await context(() => {}, state);
  const result: ServiceStatus[] = [];
  for (const name of SERVICE_NAMES) {
    const running = state.services[name];
    if (!running) continue;
    result.push({ ...running, healthy: await isUp(ctx, running), rssBytes: residentBytes(running.pid) });
  }
  return result;
}
