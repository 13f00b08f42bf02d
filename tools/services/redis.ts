import { mkdirSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { ensureDebianPackages } from "./install";
import { run, spawnDetached, waitUntil } from "./process";
import type { ServiceContext, ServiceDefinition } from "./types";

/** Sends one inline command and resolves with the first reply line. */
export function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.setTimeout(2000, () => socket.destroy(new Error("timeout")));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.end();
      resolve(d.toString().trim());
    });
    socket.once("error", reject);
  });
}

/** Redis from Debian, no persistence, loopback only. */
export const redis: ServiceDefinition<"redis"> = {
  name: "redis",
  async install() {
    await ensureDebianPackages("redis", ["redis-server"]);
  },
  async start(ctx) {
    const dataDir = join(ctx.runDir, "redis");
    const logFile = join(ctx.runDir, "redis.log");
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const pid = spawnDetached({
      name: "redis",
      command: "redis-server",
      args: [
        "--port",
        String(ctx.ports.redis),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dataDir,
        "--daemonize",
        "no",
      ],
      logFile,
    });
    await waitUntil("redis", () => this.healthy(ctx), { pid, timeoutMs: 20_000, logFile });
    const version = (await run("redis-server", ["--version"])).match(/v=([\d.]+)/)?.[1] ?? "unknown";
    return { pid, version: `Redis ${version}`, dataDir, logFile };
  },
  async healthy(ctx) {
    return (await redisPing(ctx.ports.redis)) === "+PONG";
  },
  endpoint(ctx: ServiceContext) {
    const port = ctx.ports.redis;
    return { host: "127.0.0.1", port, url: `redis://127.0.0.1:${port}` };
  },
};
