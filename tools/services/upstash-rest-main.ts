/**
 * Standalone Upstash REST adapter, for a service manager to run in the background:
 *
 *   npx tsx tools/services/upstash-rest-main.ts --redis-port 56379 --port 58079 --token T
 *
 * Flags: --redis-host (default 127.0.0.1), --redis-port, --host (default 127.0.0.1), --port
 * (default 0, ephemeral), --token. Each can also come from UPSTASH_ADAPTER_REDIS_HOST,
 * UPSTASH_ADAPTER_REDIS_PORT, UPSTASH_ADAPTER_HOST, UPSTASH_ADAPTER_PORT, UPSTASH_ADAPTER_TOKEN
 * (a flag wins). Prints one JSON line `{"event":"listening",...}` on stdout once requests are
 * accepted; on failure prints `{"event":"error",...}` on stderr and exits 1; SIGTERM/SIGINT close
 * everything and exit 0. The token is never printed: whoever started the adapter already has it.
 */
import { parseArgs } from "node:util";
import { startUpstashRestAdapter } from "./upstash-rest";

function fail(message: string): never {
  console.error(JSON.stringify({ event: "error", message }));
  process.exit(1);
}

function port(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined || raw === "") {
    if (fallback === undefined) fail(`missing --${name} (or UPSTASH_ADAPTER_${envName(name)})`);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    fail(`--${name} must be a port number, got "${raw}"`);
  return value;
}

function envName(flag: string): string {
  return flag.toUpperCase().replaceAll("-", "_");
}

async function main(): Promise<void> {
  const names = ["redis-host", "redis-port", "host", "port", "token"] as const;
  let values: Partial<Record<(typeof names)[number], string>>;
  try {
    ({ values } = parseArgs({
      options: Object.fromEntries(names.map((name) => [name, { type: "string" }])) as Record<
        (typeof names)[number],
        { type: "string" }
      >,
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const get = (name: (typeof names)[number]) =>
    values[name] ?? process.env[`UPSTASH_ADAPTER_${envName(name)}`] ?? undefined;

  const token = get("token");
  if (!token) fail("missing --token (or UPSTASH_ADAPTER_TOKEN)");
  const redisHost = get("redis-host") || "127.0.0.1";
  const redisPort = port("redis-port", get("redis-port"));
  const host = get("host") || "127.0.0.1";

  const adapter = await startUpstashRestAdapter({
    redisHost,
    redisPort,
    token,
    host,
    port: port("port", get("port"), 0),
  }).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));

  console.log(
    JSON.stringify({
      event: "listening",
      url: adapter.url,
      port: adapter.port,
      redis: `${redisHost}:${redisPort}`,
      pid: process.pid,
    }),
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal means the caller has stopped waiting for a clean close.
    if (stopping) process.exit(1);
    stopping = true;
    adapter.close().then(
      () => {
        console.log(JSON.stringify({ event: "stopped", signal }));
        process.exit(0);
      },
      (error: unknown) => fail(`close failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

await main();
