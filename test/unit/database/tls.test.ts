import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, rootCertificates } from "node:tls";
import { describe, expect, it } from "vitest";
import { decideTls, isLoopback, pgConnectionConfig, type TlsDecision } from "../../../lib/database";
import { ConfigError } from "../../../lib/errors";

const REMOTE = "postgresql://app:s3cret@db.example.com:5432/shop";
const dir = mkdtempSync(join(tmpdir(), "slotsync-tls-unit-"));
const caFile = join(dir, "ca.pem");
writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

const tlsOptions = (d: TlsDecision): ConnectionOptions => (d.ssl === false ? {} : d.ssl);

describe("decideTls", () => {
  it("verifies chain and host name by default for a remote host", () => {
    const d = decideTls(REMOTE);
    expect(d.mode).toBe("verify-full");
    expect(d.ssl).toMatchObject({ rejectUnauthorized: true, servername: "db.example.com" });
    expect(tlsOptions(d).checkServerIdentity).toBeUndefined();
    expect(d.refuseCleartextPassword).toBe(false);
  });

  it("is plaintext by default on loopback, refusing a cleartext password there", () => {
    for (const host of ["127.0.0.1", "localhost", "[::1]"]) {
      const d = decideTls(`postgresql://u:p@${host}:5432/db`);
      expect(d.ssl).toBe(false);
      expect(d.refuseCleartextPassword).toBe(true);
    }
    const socket = decideTls("postgresql://u@localhost/db?host=/var/run/postgresql");
    expect(socket.ssl).toBe(false);
  });

  it("treats loopback like any host when the policy says so", () => {
    expect(decideTls("postgresql://u:p@127.0.0.1/db", { plaintextLoopback: false }).mode).toBe("verify-full");
  });

  it("honours every sslmode with libpq's meaning", () => {
    const disabled = decideTls(`${REMOTE}?sslmode=disable`);
    expect(disabled.ssl).toBe(false);
    expect(disabled.refuseCleartextPassword).toBe(false);
    expect(decideTls(`${REMOTE}?sslmode=require`).ssl).toMatchObject({ rejectUnauthorized: false });
    const requireWithRoot = decideTls(`${REMOTE}?sslmode=require&sslrootcert=${caFile}`);
    expect(requireWithRoot.ssl).toMatchObject({ rejectUnauthorized: true });
    const verifyCa = decideTls(`${REMOTE}?sslmode=verify-ca&sslrootcert=${caFile}`);
    expect(verifyCa.ssl && typeof verifyCa.ssl.checkServerIdentity).toBe("function");
    expect(tlsOptions(verifyCa).ca).toContain("BEGIN CERTIFICATE");
    expect(decideTls(`${REMOTE}?sslmode=prefer`).mode).toBe("verify-full");
    expect(decideTls(`${REMOTE}?ssl=true`).mode).toBe("verify-full");
    expect(decideTls(`${REMOTE}?ssl=no-verify`).mode).toBe("require");
  });

  it("strips the TLS parameters from the URL pg gets (pg would apply its own reading over ours)", () => {
    const d = decideTls(`${REMOTE}?sslmode=require&sslrootcert=${caFile}&application_name=x`);
    expect(d.connectionString).not.toMatch(/ssl/);
    expect(d.connectionString).toContain("application_name=x");
  });

  it("trusts an extra CA next to Node's roots, not instead of them", () => {
    const d = decideTls(REMOTE, { extraCa: "EXTRA" });
    const ca = d.ssl ? (d.ssl.ca as string[]) : [];
    expect(ca).toContain("EXTRA");
    expect(ca.length).toBe(rootCertificates.length + 1);
  });

  it("names the parameter and the fix for an unknown sslmode or an unreadable file", () => {
    expect(() => decideTls(`${REMOTE}?sslmode=sometimes`)).toThrow(ConfigError);
    try {
      decideTls(`${REMOTE}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).where).toBe("PG_URL sslrootcert");
      expect((error as ConfigError).message).not.toContain("s3cret");
    }
  });
});

describe("pgConnectionConfig", () => {
  it("always sets a connect timeout and the session settings", () => {
    const c = pgConnectionConfig(REMOTE, "slotsync-test");
    expect(c.connectionTimeoutMillis).toBeGreaterThan(0);
    expect(c.options).toContain("TimeZone=UTC");
    expect(pgConnectionConfig(REMOTE, "x", { connectTimeoutMs: 1234 }).connectionTimeoutMillis).toBe(1234);
  });
});

describe("isLoopback", () => {
  it("knows loopback from the rest", () => {
    expect(isLoopback("127.8.9.10")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("10.0.0.5")).toBe(false);
    expect(isLoopback("mydb.abc.eu-west-1.rds.amazonaws.com")).toBe(false);
    expect(isLoopback("localhost.evil.com")).toBe(false);
  });
});
