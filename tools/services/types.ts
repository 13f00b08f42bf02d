/** Names of the real services the tests, the demo and the benchmarks run on loopback. */
export const SERVICE_NAMES = [
  "postgres",
  "redis",
  "upstash",
  "elasticsearch",
  "opensearch",
  "elasticmq",
  "moto",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** How to reach each running service. Written to the state file, read by `getServices()`. */
export interface ServiceEndpoints {
  postgres: { url: string; host: string; port: number; user: string; password: string; database: string };
  redis: { host: string; port: number; url: string };
  upstash: { url: string; token: string };
  elasticsearch: { url: string; username: string; password: string };
  opensearch: { url: string; username?: string; password?: string };
  elasticmq: { endpoint: string; region: string };
  moto: { endpoint: string; region: string };
}

/** One service as the state file records it. */
export interface RunningService {
  name: ServiceName;
  pid: number;
  port: number;
  version: string;
  startedAt: string;
  startMs: number;
  dataDir: string;
  logFile: string;
}

/** Where the manager keeps its files for one run. */
export interface ServiceContext {
  /** Ephemeral: data directories and logs, wiped when a service starts. */
  runDir: string;
  /** Kept between runs: downloaded and extracted distributions. */
  cacheDir: string;
  /** Unprivileged account for servers that refuse to run as root (undefined when not root). */
  serviceUser: { name: string; uid: number; gid: number; home: string } | undefined;
  ports: Record<ServiceName, number>;
  log: (line: string) => void;
}

/** A real service the manager can install, start and check. */
export interface ServiceDefinition<N extends ServiceName = ServiceName> {
  name: N;
  /** Installs whatever is missing (apt, Maven, pip). Throws ServiceStartError with the fix. */
  install(ctx: ServiceContext): Promise<void>;
  /** Starts the service detached; resolves once it is healthy. */
  start(ctx: ServiceContext): Promise<{ pid: number; version: string; dataDir: string; logFile: string }>;
  /** True when the service at `port` answers as expected. */
  healthy(ctx: ServiceContext): Promise<boolean>;
  endpoint(ctx: ServiceContext): ServiceEndpoints[N];
}

/** A service could not be installed or started; `fix` says what to do. */
export class ServiceStartError extends Error {
  constructor(
    readonly service: ServiceName,
    message: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${service}: ${message} — ${fix}`, options);
    this.name = "ServiceStartError";
  }
}
