import { join } from "node:path";
import { ensurePythonPackage } from "./install";
import { run, spawnDetached, waitUntil } from "./process";
import type { ServiceContext, ServiceDefinition } from "./types";

const REGION = "us-east-1";

function endpoint(ctx: ServiceContext) {
  return { endpoint: `http://127.0.0.1:${ctx.ports.moto}`, region: REGION };
}

/** moto's server mode for the Amazon-only APIs (EventBridge, CloudWatch). */
export const moto: ServiceDefinition<"moto"> = {
  name: "moto",
  async install() {
    await ensurePythonPackage("moto", "import moto.server, flask", "moto[server]");
  },
  async start(ctx) {
    const logFile = join(ctx.runDir, "moto.log");
    const pid = spawnDetached({
      name: "moto",
      command: "python3",
      args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(ctx.ports.moto)],
      logFile,
    });
    await waitUntil("moto", () => this.healthy(ctx), { pid, timeoutMs: 60_000, logFile });
    const version = (await run("python3", ["-c", "import moto; print(moto.__version__)"])).trim();
    return { pid, version: `moto ${version}`, dataDir: ctx.runDir, logFile };
  },
  async healthy(ctx) {
    const res = await fetch(`${endpoint(ctx).endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  },
  endpoint,
};
