import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnDetached, waitUntil } from "./process";
import type { ServiceContext, ServiceDefinition } from "./types";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** A local-only token for the adapter; real deployments use the token Upstash issues. */
export const LOCAL_UPSTASH_TOKEN = "slotsync-local-upstash-token";

function endpoint(ctx: ServiceContext) {
  return { url: `http://127.0.0.1:${ctx.ports.upstash}`, token: LOCAL_UPSTASH_TOKEN };
}

/** The Upstash REST protocol adapter (tools/services/upstash-rest.ts) in front of the local Redis. */
export const upstash: ServiceDefinition<"upstash"> = {
  name: "upstash",
  async install() {
    // Runs on Node with the project's own dependencies: nothing to install.
  },
  async start(ctx) {
    const logFile = join(ctx.runDir, "upstash.log");
    const pid = spawnDetached({
      name: "upstash",
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        join(REPO_ROOT, "tools/services/upstash-rest-main.ts"),
        "--redis-port",
        String(ctx.ports.redis),
        "--port",
        String(ctx.ports.upstash),
        "--token",
        LOCAL_UPSTASH_TOKEN,
      ],
      cwd: REPO_ROOT,
      logFile,
    });
    await waitUntil("upstash", () => this.healthy(ctx), { pid, timeoutMs: 30_000, logFile });
    return { pid, version: "Upstash REST adapter (local) over Redis", dataDir: ctx.runDir, logFile };
  },
  async healthy(ctx) {
    const { url, token } = endpoint(ctx);
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(["PING"]),
      signal: AbortSignal.timeout(2000),
    });
    const body = (await res.json()) as { result?: unknown };
    return res.ok && body.result === "PONG";
  },
  endpoint,
};
