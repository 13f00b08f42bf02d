import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureMavenArtifact } from "./install";
import { hasCommand, run, spawnDetached, waitUntil } from "./process";
import { type ServiceContext, type ServiceDefinition, ServiceStartError } from "./types";

/** ElasticMQ from Maven Central: an SQS implementation speaking the JSON protocol, with DLQ redrive. */
export const ELASTICMQ_VERSION = "1.6.16";
const REGION = "us-east-1";

function endpoint(ctx: ServiceContext) {
  return { endpoint: `http://127.0.0.1:${ctx.ports.elasticmq}`, region: REGION };
}

/** The server's class path: Maven resolves the artifact and its dependencies once, then it is cached. */
async function classPath(ctx: ServiceContext): Promise<string> {
  const cpFile = join(ctx.cacheDir, `elasticmq-${ELASTICMQ_VERSION}.classpath`);
  try {
    return readFileSync(cpFile, "utf8").trim();
  } catch {
    // Not resolved yet.
  }
  if (!(await hasCommand("mvn"))) {
    throw new ServiceStartError("elasticmq", "Maven (mvn) is not installed", "apt-get install -y maven");
  }
  await ensureMavenArtifact(
    "elasticmq",
    { group: "org.elasticmq", artifact: "elasticmq-server_2.13", version: ELASTICMQ_VERSION },
    true,
  );
  const pomDir = join(ctx.cacheDir, "elasticmq-pom");
  mkdirSync(pomDir, { recursive: true });
  writeFileSync(
    join(pomDir, "pom.xml"),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.slotsync</groupId><artifactId>elasticmq-runner</artifactId><version>1</version>
<dependencies><dependency><groupId>org.elasticmq</groupId><artifactId>elasticmq-server_2.13</artifactId>
<version>${ELASTICMQ_VERSION}</version></dependency></dependencies></project>\n`,
  );
  const out = join(pomDir, "classpath.txt");
  await run("mvn", [
    "-q",
    "-B",
    "-f",
    join(pomDir, "pom.xml"),
    "dependency:build-classpath",
    `-Dmdep.outputFile=${out}`,
  ]);
  const cp = readFileSync(out, "utf8").trim();
  const jar = await ensureMavenArtifact("elasticmq", {
    group: "org.elasticmq",
    artifact: "elasticmq-server_2.13",
    version: ELASTICMQ_VERSION,
  });
  const full = `${jar}:${cp}`;
  writeFileSync(cpFile, full);
  return full;
}

export const elasticmq: ServiceDefinition<"elasticmq"> = {
  name: "elasticmq",
  async install(ctx) {
    await classPath(ctx);
  },
  async start(ctx) {
    const dataDir = join(ctx.runDir, "elasticmq");
    const logFile = join(ctx.runDir, "elasticmq.log");
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const port = ctx.ports.elasticmq;
    const conf = join(dataDir, "elasticmq.conf");
    writeFileSync(
      conf,
      `include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
aws { region = ${REGION}, accountId = 000000000000 }
`,
    );
    const pid = spawnDetached({
      name: "elasticmq",
      command: "java",
      args: ["-Xmx256m", `-Dconfig.file=${conf}`, "-cp", await classPath(ctx), "org.elasticmq.server.Main"],
      cwd: dataDir,
      logFile,
    });
    await waitUntil("elasticmq", () => this.healthy(ctx), { pid, timeoutMs: 60_000, logFile });
    return { pid, version: `ElasticMQ ${ELASTICMQ_VERSION}`, dataDir, logFile };
  },
  async healthy(ctx) {
    const res = await fetch(endpoint(ctx).endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.ListQueues" },
      body: "{}",
      signal: AbortSignal.timeout(2000),
    });
    return res.ok;
  },
  endpoint,
};
