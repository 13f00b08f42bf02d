import { createServer, type Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase, createPool, DatabaseConnectError } from "../../lib/database";
import { getServices } from "../support/services";
import { startTlsPostgres, TLS_ROLES, type TlsPostgres } from "../support/tls-postgres";

let server: TlsPostgres;

beforeAll(async () => {
  server = await startTlsPostgres();
});

afterAll(async () => {
  await server?.stop();
});

/** Whether the session runs over TLS, as the server sees it. */
async function sessionUsesTls(url: string, policy = {}): Promise<boolean> {
  const client = await connectDatabase(url, "tls-test", policy);
  try {
    const r = await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    return r.rows[0]?.ssl === true;
  } finally {
    await client.end();
  }
}

async function connectFailure(url: string, policy = {}): Promise<DatabaseConnectError> {
  const error = await connectDatabase(url, "tls-test", policy).then(
    async (client) => {
      await client.end();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseConnectError);
  return error as DatabaseConnectError;
}

/** A TCP relay to the TLS server that keeps every byte the client sent. */
async function startRecordingRelay(
  port: number,
): Promise<{ url: string; sent: () => string; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const relay: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    upstream.connect(port, "127.0.0.1");
    client.on("data", (d: Buffer) => {
      chunks.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on("data", (d: Buffer) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const address = relay.address();
  if (typeof address !== "object" || !address) throw new Error("relay has no port");
  return {
    url: `127.0.0.1:${address.port}`,
    sent: () => Buffer.concat(chunks).toString("latin1"),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        relay.close(() => resolve());
      }),
  };
}

describe("PostgreSQL over TLS (own server, own CA)", () => {
  it("connects with sslmode=verify-full and the server's CA", async () => {
    expect(
      await sessionUsesTls(
        server.url("tls", "127.0.0.1", { sslmode: "verify-full", sslrootcert: server.caFile }),
      ),
    ).toBe(true);
    expect(
      await sessionUsesTls(
        server.url("tls", "localhost", { sslmode: "verify-full", sslrootcert: server.caFile }),
      ),
    ).toBe(true);
  });

  it("uses verified TLS by default for a host that is not exempt, trusting the policy's extra CA", async () => {
    expect(await sessionUsesTls(server.url("tls"), { plaintextLoopback: false, extraCa: server.caPem })).toBe(
      true,
    );
  });

  it("fails with a message naming the server, the CA problem and the fix when the CA is wrong", async () => {
    const error = await connectFailure(
      server.url("tls", "127.0.0.1", { sslmode: "verify-full", sslrootcert: server.wrongCaFile }),
    );
    expect(error.message).toMatch(/TLS handshake .* not signed by a trusted CA/);
    expect(error.where).toBe(`127.0.0.1:${server.port}/postgres`);
    expect(error.fix).toMatch(/sslrootcert=/);
    expect(error.retryable).toBe(false);
    expect(error.toLine()).not.toContain(TLS_ROLES.tls.password);
  });

  it("refuses an unknown CA by default too (no sslmode), not only with verify-full", async () => {
    const error = await connectFailure(server.url("tls"), { plaintextLoopback: false });
    expect(error.message).toMatch(/not signed by a trusted CA/);
  });

  it("checks the CA but not the host name with verify-ca, and neither with require", async () => {
    // The server listens on 127.0.0.2 too, which its certificate does not name.
    const wrongName = { sslmode: "verify-full", sslrootcert: server.caFile };
    const mismatch = await connectFailure(
      server.url("tls", "127.0.0.1", wrongName).replace("127.0.0.1", "127.0.0.2"),
    );
    expect(mismatch.message).toMatch(/not valid for this host name/);
    expect(mismatch.fix).toMatch(/verify-ca/);
    expect(
      await sessionUsesTls(
        server.url("tls", "127.0.0.2", { sslmode: "verify-ca", sslrootcert: server.caFile }),
      ),
    ).toBe(true);
    expect(
      await sessionUsesTls(
        server.url("tls", "127.0.0.1", { sslmode: "verify-ca", sslrootcert: server.caFile }),
      ),
    ).toBe(true);
    const wrongCa = await connectFailure(
      server.url("tls", "127.0.0.1", { sslmode: "verify-ca", sslrootcert: server.wrongCaFile }),
    );
    expect(wrongCa.message).toMatch(/not signed by a trusted CA/);
    expect(await sessionUsesTls(server.url("tls", "127.0.0.1", { sslmode: "require" }))).toBe(true);
  });

  it("never sends a cleartext password over a plaintext connection nobody asked for", async () => {
    const relay = await startRecordingRelay(server.port);
    try {
      const url = server.url("cleartext").replace(`127.0.0.1:${server.port}`, relay.url);
      const error = await connectFailure(url);
      expect(error.message).toMatch(/asked for the password in cleartext .* did not send it/);
      expect(error.fix).toMatch(/sslmode=disable/);
      expect(relay.sent()).toContain(TLS_ROLES.cleartext.user);
      expect(relay.sent()).not.toContain(TLS_ROLES.cleartext.password);

      // Asked for explicitly, plaintext sends it (which proves the relay sees a password when one goes).
      expect(await sessionUsesTls(`${url}?sslmode=disable`)).toBe(false);
      expect(relay.sent()).toContain(TLS_ROLES.cleartext.password);
    } finally {
      await relay.close();
    }
  });

  it("sends a cleartext password inside TLS", async () => {
    expect(
      await sessionUsesTls(
        server.url("cleartext", "127.0.0.1", { sslmode: "verify-full", sslrootcert: server.caFile }),
      ),
    ).toBe(true);
  });

  it("a pool's connections follow the same rules and explain failures the same way", async () => {
    const pool = createPool(
      server.url("tls", "127.0.0.1", { sslmode: "verify-full", sslrootcert: server.wrongCaFile }),
      "tls-test",
      1,
    );
    try {
      await expect(pool.query("SELECT 1")).rejects.toBeInstanceOf(DatabaseConnectError);
    } finally {
      await pool.end();
    }
    const good = createPool(
      server.url("tls", "127.0.0.1", { sslmode: "verify-full", sslrootcert: server.caFile }),
      "tls-test",
      1,
    );
    try {
      expect(
        (await good.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).rows[0]?.ssl,
      ).toBe(true);
    } finally {
      await good.end();
    }
  });

  it("says the server does not support TLS when TLS is required of one without it", async () => {
    const url = new URL(getServices().postgres.url);
    url.searchParams.set("sslmode", "require");
    const error = await connectFailure(url.toString());
    expect(error.message).toMatch(/does not accept TLS/);
    expect(error.fix).toMatch(/sslmode=disable/);
  });

  it("names host and port and the network causes when the server never answers", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const error = await connectFailure(`postgresql://u:p@127.0.0.1:${port}/db`, { connectTimeoutMs: 300 });
      expect(error.message).toMatch(/did not answer within 0.3 s/);
      expect(error.where).toBe(`127.0.0.1:${port}/db`);
      expect(error.fix).toMatch(/security group/);
      expect(error.fix).toMatch(/NAT/);
      expect(error.retryable).toBe(true);
    } finally {
      silent.close();
    }
  });
});
