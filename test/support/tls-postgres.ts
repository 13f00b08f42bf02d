import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresAccount } from "../../tools/services/postgres";
import { run, spawnDetached, stopProcess, waitUntil } from "../../tools/services/process";

const BIN = "/usr/lib/postgresql/15/bin";

/** Roles of the TLS test server and how pg_hba.conf lets them in. */
export const TLS_ROLES = {
  /** `hostssl ... scram-sha-256`: only over TLS. */
  tls: { user: "tls_user", password: "tls-secret-4d1f" },
  /** `host ... password`: the server asks for the password in cleartext, with or without TLS. */
  cleartext: { user: "cleartext_user", password: "cleartext-secret-9b2e" },
} as const;

/** A PostgreSQL of its own with TLS on, its own CA, on a free loopback port; stop it with `stop`. */
export interface TlsPostgres {
  port: number;
  /** PEM file of the CA that signed the server's certificate. */
  caFile: string;
  /** PEM file of another CA, which signed nothing the server presents. */
  wrongCaFile: string;
  /** The CA certificate's PEM text. */
  caPem: string;
  /** `postgresql://user:password@host:port/postgres` for one of {@link TLS_ROLES}. */
  url(role: keyof typeof TLS_ROLES, host?: string, params?: Record<string, string>): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** A CA and a server certificate for `localhost` and 127.0.0.1, plus an unrelated CA. */
async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  for (const ca of ["ca", "wrong-ca"]) {
    await ssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=slotsync test ${ca}`,
      "-keyout",
      `${ca}.key`,
      "-out",
      `${ca}.pem`,
    );
  }
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await ssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  await ssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "server.ext",
    "-out",
    "server.pem",
  );
}

/**
 * Starts a throw-away PostgreSQL 15 with `ssl=on`, a certificate signed by its own CA and a
 * pg_hba.conf that lets {@link TLS_ROLES} in only as their comments say. The shared test cluster
 * is not touched.
 */
export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "slotsync-tls-pg-"));
  const account = process.getuid?.() === 0 ? await postgresAccount() : undefined;
  const dataDir = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  let pid: number | undefined;
  try {
    await makeCertificates(dir);
    writeFileSync(join(dir, "pw"), "admin-secret\n");
    if (account) {
      for (const f of ["", "server.key", "server.pem", "ca.pem", "pw"])
        chownSync(join(dir, f), account.uid, account.gid);
    }
    chmodSync(join(dir, "server.key"), 0o600);
    await run(
      join(BIN, "initdb"),
      ["-D", dataDir, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(dir, "pw")}`, "-E", "UTF8"],
      { user: account },
    );
    writeFileSync(
      join(dataDir, "pg_hba.conf"),
      [
        "local   all  postgres                     trust",
        `hostssl all  ${TLS_ROLES.tls.user}        127.0.0.0/8   scram-sha-256`,
        `host    all  ${TLS_ROLES.cleartext.user}  127.0.0.0/8   password`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    pid = spawnDetached({
      name: "postgres",
      command: join(BIN, "postgres"),
      args: [
        "-D",
        dataDir,
        "-c",
        `port=${port}`,
        "-c",
        "listen_addresses=127.0.0.1,127.0.0.2",
        "-c",
        `unix_socket_directories=${dir}`,
        "-c",
        "ssl=on",
        "-c",
        `ssl_cert_file=${join(dir, "server.pem")}`,
        "-c",
        `ssl_key_file=${join(dir, "server.key")}`,
        "-c",
        "password_encryption=scram-sha-256",
        "-c",
        "fsync=off",
        "-c",
        "shared_buffers=16MB",
        "-c",
        "max_connections=20",
      ],
      logFile,
      user: account,
    });
    const psql = (sql: string) =>
      run(
        join(BIN, "psql"),
        [
          "-h",
          dir,
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          "postgres",
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          sql,
        ],
        {
          user: account,
        },
      );
    const started = pid;
    await waitUntil("postgres", async () => (await psql("SELECT 1")).includes("1"), {
      pid: started,
      timeoutMs: 60_000,
      logFile,
    });
    for (const role of Object.values(TLS_ROLES)) {
      await psql(`CREATE ROLE ${role.user} LOGIN PASSWORD '${role.password}'`);
    }
    return {
      port,
      caFile: join(dir, "ca.pem"),
      wrongCaFile: join(dir, "wrong-ca.pem"),
      caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
      url(role, host = "127.0.0.1", params = {}) {
        const r = TLS_ROLES[role];
        const query = new URLSearchParams(params).toString();
        return `postgresql://${r.user}:${r.password}@${host}:${port}/postgres${query ? `?${query}` : ""}`;
      },
      async stop() {
        await stopProcess(started, 10_000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (pid !== undefined) await stopProcess(pid, 5000);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
