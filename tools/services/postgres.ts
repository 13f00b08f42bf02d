import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { ensureDebianPackages } from "./install";
import { run, spawnDetached, waitUntil } from "./process";
import { type ServiceContext, type ServiceDefinition, ServiceStartError } from "./types";

const BIN = "/usr/lib/postgresql/15/bin";
const PASSWORD = "postgres";

function endpoint(ctx: ServiceContext) {
  const port = ctx.ports.postgres;
  return {
    url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    host: "127.0.0.1",
    port,
    user: "postgres",
    password: PASSWORD,
    database: "postgres",
  };
}

async function query(ctx: ServiceContext, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: endpoint(ctx).url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** PostgreSQL 15 with wal_level=logical and wal2json, run as the `postgres` account (it refuses root). */
export const postgres: ServiceDefinition<"postgres"> = {
  name: "postgres",
  async install() {
    await ensureDebianPackages("postgres", ["postgresql-15", "postgresql-15-wal2json"]);
    if (!existsSync(join(BIN, "postgres"))) {
      throw new ServiceStartError(
        "postgres",
        `${BIN}/postgres not found`,
        "apt-get install -y postgresql-15",
      );
    }
  },
  async start(ctx) {
    const dataDir = join(ctx.runDir, "postgres");
    const logFile = join(ctx.runDir, "postgres.log");
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const pwFile = join(ctx.runDir, "postgres.pw");
    writeFileSync(pwFile, `${PASSWORD}\n`);
    const pgUser = process.getuid?.() === 0 ? await postgresAccount() : undefined;
    if (pgUser) {
      chownSync(dataDir, pgUser.uid, pgUser.gid);
      chownSync(pwFile, pgUser.uid, pgUser.gid);
    }
    await run(
      join(BIN, "initdb"),
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--auth=scram-sha-256",
        `--pwfile=${pwFile}`,
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
      ],
      { user: pgUser },
    );
    const port = ctx.ports.postgres;
    const pid = spawnDetached({
      name: "postgres",
      command: join(BIN, "postgres"),
      args: [
        "-D",
        dataDir,
        "-c",
        `port=${port}`,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        `unix_socket_directories=${dataDir}`,
        "-c",
        "wal_level=logical",
        "-c",
        "max_replication_slots=64",
        "-c",
        "max_wal_senders=64",
        "-c",
        "max_connections=300",
        "-c",
        "shared_buffers=256MB",
        // Durability of a throw-away test cluster does not matter; commit visibility does, so
        // synchronous_commit stays on (slot reads would lag behind commits otherwise).
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_wal_size=4GB",
        "-c",
        "logging_collector=off",
      ],
      logFile,
      user: pgUser,
    });
    await waitUntil("postgres", () => this.healthy(ctx), { pid, timeoutMs: 60_000, logFile });
    const version = (await query(ctx, "SHOW server_version")).rows[0]?.server_version ?? "unknown";
    return { pid, version: `PostgreSQL ${version} + wal2json`, dataDir, logFile };
  },
  async healthy(ctx) {
    const result = await query(ctx, "SELECT current_setting('wal_level') AS wal_level");
    return result.rows[0]?.wal_level === "logical";
  },
  endpoint,
};

/** The `postgres` account the server runs as when we are root (initdb and postgres refuse root). */
export async function postgresAccount(): Promise<ServiceContext["serviceUser"]> {
  try {
    const uid = Number((await run("id", ["-u", "postgres"])).trim());
    const gid = Number((await run("id", ["-g", "postgres"])).trim());
    return { name: "postgres", uid, gid, home: "/var/lib/postgresql" };
  } catch (cause) {
    throw new ServiceStartError("postgres", "no `postgres` account", "apt-get install -y postgresql-15", {
      cause,
    });
  }
}
