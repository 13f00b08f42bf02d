import {
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ensureExtracted, ensureMavenArtifact } from "./install";
import { hasCommand, run, spawnDetached, waitUntil } from "./process";
import { type ServiceContext, type ServiceDefinition, ServiceStartError } from "./types";

/** Versions taken from Maven Central's integ-test-zip distributions (no bundled JDK, no plugins). */
export const ELASTICSEARCH_VERSION = "8.19.21";
export const OPENSEARCH_VERSION = "2.19.6";

/** Local-only credentials of the test cluster's file-realm superuser. */
export const ES_USER = "slotsync";
export const ES_PASSWORD = "slotsync-local-password";
const ES_SETTINGS = [
  "xpack.security.enabled=true",
  // Plain HTTP on loopback; real clusters use TLS, which the sink supports through its CA option.
  "xpack.security.http.ssl.enabled=false",
  "xpack.security.transport.ssl.enabled=false",
  "xpack.security.enrollment.enabled=false",
];

interface EngineSpec {
  name: "elasticsearch" | "opensearch";
  group: string;
  artifact: string;
  version: string;
  /** Start script and the env variables it reads for the JDK, config dir and JVM options. */
  script: string;
  javaHomeVar: string;
  confVar: string;
  javaOptsVar: string;
  portKey: "elasticsearch" | "opensearch";
}

const ES: EngineSpec = {
  name: "elasticsearch",
  group: "org.elasticsearch.distribution.integ-test-zip",
  artifact: "elasticsearch",
  version: ELASTICSEARCH_VERSION,
  script: "bin/elasticsearch",
  javaHomeVar: "ES_JAVA_HOME",
  confVar: "ES_PATH_CONF",
  javaOptsVar: "ES_JAVA_OPTS",
  portKey: "elasticsearch",
};

const OS: EngineSpec = {
  name: "opensearch",
  group: "org.opensearch.distribution.integ-test-zip",
  artifact: "opensearch",
  version: OPENSEARCH_VERSION,
  script: "bin/opensearch",
  javaHomeVar: "OPENSEARCH_JAVA_HOME",
  confVar: "OPENSEARCH_PATH_CONF",
  javaOptsVar: "OPENSEARCH_JAVA_OPTS",
  portKey: "opensearch",
};

/** JAVA_HOME of the system JDK (17 on these machines). */
async function javaHome(service: EngineSpec["name"]): Promise<string> {
  if (process.env.JAVA_HOME && existsSync(join(process.env.JAVA_HOME, "bin/java")))
    return process.env.JAVA_HOME;
  if (!(await hasCommand("java"))) {
    throw new ServiceStartError(
      service,
      "no Java runtime found",
      "install a JDK 17: apt-get install -y openjdk-17-jdk-headless",
    );
  }
  const real = (await run("readlink", ["-f", (await run("sh", ["-c", "command -v java"])).trim()])).trim();
  return real.replace(/\/bin\/java$/, "");
}

function urlOf(ctx: ServiceContext, spec: EngineSpec): string {
  return `http://127.0.0.1:${ctx.ports[spec.portKey]}`;
}

async function installed(ctx: ServiceContext, spec: EngineSpec): Promise<string> {
  const zip = await ensureMavenArtifact(spec.name, {
    group: spec.group,
    artifact: spec.artifact,
    version: spec.version,
    packaging: "zip",
  });
  return ensureExtracted(spec.name, zip, ctx.cacheDir, `${spec.name}-${spec.version}`);
}

function engine(spec: EngineSpec): ServiceDefinition<EngineSpec["name"]> {
  return {
    name: spec.name,
    async install(ctx) {
      await installed(ctx, spec);
    },
    async start(ctx) {
      const home = await installed(ctx, spec);
      const dataDir = join(ctx.runDir, spec.name);
      const logFile = join(ctx.runDir, `${spec.name}.log`);
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(join(dataDir, "data"), { recursive: true });
      mkdirSync(join(dataDir, "logs"), { recursive: true });
      mkdirSync(join(dataDir, "tmp"), { recursive: true });
      // A private copy of the config: the engine writes a keystore there at start-up.
      cpSync(join(home, "config"), join(dataDir, "config"), { recursive: true });
      pinJvmPaths(join(dataDir, "config/jvm.options"), dataDir);
      const env = {
        [spec.javaHomeVar]: await javaHome(spec.name),
        [spec.confVar]: join(dataDir, "config"),
        [spec.javaOptsVar]: "-Xms1g -Xmx1g",
        TMPDIR: join(dataDir, "tmp"),
        ES_TMPDIR: join(dataDir, "tmp"),
        OPENSEARCH_TMPDIR: join(dataDir, "tmp"),
      };
      if (spec.name === "elasticsearch") {
        // A file-realm superuser, so the tests exercise real authentication (basic auth and API keys).
        await run(
          join(home, "bin/elasticsearch-users"),
          ["useradd", ES_USER, "-p", ES_PASSWORD, "-r", "superuser"],
          { env },
        );
      }
      if (ctx.serviceUser) chownTree(dataDir, ctx.serviceUser.uid, ctx.serviceUser.gid);
      const port = ctx.ports[spec.portKey];
      const pid = spawnDetached({
        name: spec.name,
        command: join(home, spec.script),
        args: [
          "-E",
          `cluster.name=slotsync-${spec.name}`,
          "-E",
          "discovery.type=single-node",
          "-E",
          "network.host=127.0.0.1",
          "-E",
          `http.port=${port}`,
          "-E",
          `transport.port=${port + 100}`,
          "-E",
          `path.data=${join(dataDir, "data")}`,
          "-E",
          `path.logs=${join(dataDir, "logs")}`,
          // Tests fill small disks; the default watermarks would make indices read-only.
          "-E",
          "cluster.routing.allocation.disk.threshold_enabled=false",
          "-E",
          "action.destructive_requires_name=false",
          ...(spec.name === "elasticsearch" ? ES_SETTINGS.flatMap((s) => ["-E", s]) : []),
        ],
        env,
        user: ctx.serviceUser,
        cwd: dataDir,
        logFile,
      });
      await waitUntil(spec.name, () => this.healthy(ctx), {
        pid,
        timeoutMs: 180_000,
        logFile,
        intervalMs: 500,
      });
      const info = (await (await fetch(urlOf(ctx, spec), { headers: authHeaders(spec) })).json()) as {
        version?: { number?: string };
      };
      const label = spec.name === "elasticsearch" ? "Elasticsearch" : "OpenSearch";
      return { pid, version: `${label} ${info.version?.number ?? spec.version}`, dataDir, logFile };
    },
    async healthy(ctx) {
      const res = await fetch(`${urlOf(ctx, spec)}/_cluster/health`, {
        headers: authHeaders(spec),
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) return false;
      const body = (await res.json()) as { status?: string };
      return body.status === "green" || body.status === "yellow";
    },
    endpoint(ctx) {
      return spec.name === "elasticsearch"
        ? { url: urlOf(ctx, spec), username: ES_USER, password: ES_PASSWORD }
        : { url: urlOf(ctx, spec) };
    },
  };
}

/** The jvm.options of both engines name log and dump files relative to the working directory. */
function pinJvmPaths(jvmOptions: string, dataDir: string): void {
  const text = readFileSync(jvmOptions, "utf8")
    .replaceAll("file=logs/", `file=${dataDir}/logs/`)
    .replaceAll("ErrorFile=logs/", `ErrorFile=${dataDir}/logs/`)
    .replace(/HeapDumpPath=data\b/, `HeapDumpPath=${dataDir}/data`);
  writeFileSync(jvmOptions, text);
}

function authHeaders(spec: EngineSpec): Record<string, string> {
  if (spec.name !== "elasticsearch") return {};
  return { authorization: `Basic ${Buffer.from(`${ES_USER}:${ES_PASSWORD}`).toString("base64")}` };
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, uid, gid);
    else chownSync(path, uid, gid);
  }
}

/** Elasticsearch 8, single node, security off (the integ-test distribution has no x-pack). */
export const elasticsearch = engine(ES) as ServiceDefinition<"elasticsearch">;
/** OpenSearch 2, single node, no security plugin. */
export const opensearch = engine(OS) as ServiceDefinition<"opensearch">;
