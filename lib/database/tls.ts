import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { rootCertificates } from "node:tls";
import { ConfigError } from "../errors";

/**
 * The TLS modes of libpq's `sslmode`, plus `default`: no `sslmode` in the URL, which slotsync reads
 * as `verify-full` for every host but loopback (and as plaintext there, unless the policy says
 * otherwise). `allow` and `prefer` cannot fall back to plaintext in the Node client, so they mean
 * `default` too.
 */
export type SslMode = "default" | "disable" | "require" | "verify-ca" | "verify-full";

/** How slotsync connects when the URL does not say: what the caller's environment adds. */
export interface ConnectionPolicy {
  /**
   * PEM certificates trusted next to Node's built-in roots, when the URL names no `sslrootcert`:
   * in Lambda, the runtime's bundle with the Amazon RDS CAs ({@link LAMBDA_CA_BUNDLE}).
   */
  readonly extraCa?: string;
  /** Plaintext to loopback hosts when the URL has no `sslmode` (default true). */
  readonly plaintextLoopback?: boolean;
  /** How long to wait for the server's answer before giving up, default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs?: number;
}

/** Connection timeout unless the policy says otherwise: far below any Lambda timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The CA bundle of the AWS Lambda Node.js runtimes, which holds the Amazon RDS certificate
 * authorities; Node.js 20 and later runtimes do not trust it unless told to
 * (`NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem`, which the stack sets too).
 */
export const LAMBDA_CA_BUNDLE = "/var/runtime/ca-cert.pem";

/** The contents of a CA bundle file, or undefined when there is none (outside Lambda). */
export function readCaBundle(path: string = LAMBDA_CA_BUNDLE): string | undefined {
  try {
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

/** What a PostgreSQL URL and the policy make of TLS. */
export interface TlsDecision {
  /** The URL without the TLS parameters, which `pg` would otherwise apply over ours. */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly mode: SslMode;
  /** `false` for plaintext, else the options of `tls.connect`. */
  readonly ssl: false | ConnectionOptions;
  /**
   * True when the connection is plaintext without anybody having asked for it (the loopback
   * default): a server that asks for the password in cleartext then gets none.
   */
  readonly refuseCleartextPassword: boolean;
}

/** URL parameters that carry TLS settings; slotsync reads them and strips them before `pg` sees the URL. */
const TLS_PARAMS = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl", "uselibpqcompat"] as const;

/**
 * Reads `sslmode`, `sslrootcert`, `sslcert` and `sslkey` from a PostgreSQL URL (libpq's meaning)
 * and decides how to connect.
 *
 * - no `sslmode`: TLS with full verification (chain and host name) for every host but loopback;
 * - `disable`: plaintext, the only way to get it to a remote host;
 * - `require`: encrypted, the certificate is not checked (with `sslrootcert`: as `verify-ca`);
 * - `verify-ca`: the chain is checked against the CAs, the host name is not;
 * - `verify-full`: chain and host name are checked.
 *
 * @throws ConfigError naming the parameter when a value is unknown or a certificate file unreadable.
 */
export function decideTls(url: string, policy: ConnectionPolicy = {}): TlsDecision {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError("PG_URL is not a URL", {
      where: "PG_URL",
      fix: "use postgresql://user:password@host:5432/database",
      cause,
    });
  }
  const params = parsed.searchParams;
  const socketHost = params.get("host");
  const host = socketHost ?? (decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, "") || "localhost");
  const port = Number(parsed.port || params.get("port") || 5432);
  let mode = readMode(params);
  const rootCert = params.get("sslrootcert") ?? undefined;
  const certFile = params.get("sslcert") ?? undefined;
  const keyFile = params.get("sslkey") ?? undefined;
  for (const p of TLS_PARAMS) params.delete(p);
  const connectionString = parsed.toString();

  const loopback = isLoopback(host);
  const explicitlyPlain = mode === "disable";
  if (mode === "default") mode = loopback && policy.plaintextLoopback !== false ? "disable" : "verify-full";
  if (mode === "disable") {
    return { connectionString, host, port, mode, ssl: false, refuseCleartextPassword: !explicitlyPlain };
  }

  const ssl: ConnectionOptions = {};
  if (rootCert !== undefined && rootCert !== "system") ssl.ca = readPem(rootCert, "sslrootcert");
  else if (policy.extraCa) ssl.ca = [...rootCertificates, policy.extraCa];
  if (certFile !== undefined) ssl.cert = readPem(certFile, "sslcert");
  if (keyFile !== undefined) ssl.key = readPem(keyFile, "sslkey");
  // libpq: `require` with a root certificate behaves as `verify-ca`.
  const checkChain = mode !== "require" || rootCert !== undefined;
  ssl.rejectUnauthorized = checkChain;
  if (mode !== "verify-full") ssl.checkServerIdentity = () => undefined;
  // SNI carries a name, never an address (Node warns about an IP there).
  if (isIP(host) === 0 && !host.startsWith("/")) ssl.servername = host;
  return { connectionString, host, port, mode, ssl, refuseCleartextPassword: false };
}

function readMode(params: URLSearchParams): SslMode {
  const sslmode = params.get("sslmode");
  if (sslmode !== null) {
    switch (sslmode) {
      case "disable":
      case "require":
      case "verify-ca":
      case "verify-full":
        return sslmode;
      case "allow":
      case "prefer":
        return "default";
      default:
        throw new ConfigError(`unknown sslmode "${sslmode.slice(0, 20)}"`, {
          where: "PG_URL sslmode",
          fix: "use disable, require, verify-ca or verify-full (or leave it out: verify-full except on loopback)",
        });
    }
  }
  // node-postgres' own spellings: ssl=true, ssl=false/0, ssl=no-verify.
  const ssl = params.get("ssl");
  if (ssl === null) return "default";
  if (ssl === "true" || ssl === "1") return "verify-full";
  if (ssl === "false" || ssl === "0") return "disable";
  if (ssl === "no-verify") return "require";
  throw new ConfigError(`unknown ssl value "${ssl.slice(0, 20)}"`, {
    where: "PG_URL ssl",
    fix: "use sslmode=disable|require|verify-ca|verify-full instead",
  });
}

function readPem(path: string, param: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read the file ${param} names (${path})`, {
      where: `PG_URL ${param}`,
      fix: `put the PEM file at that path (in Lambda: bundle it with the function or use the runtime's ${LAMBDA_CA_BUNDLE})`,
      cause,
    });
  }
}

/** Loopback names and addresses, and Unix sockets: traffic that never leaves the machine. */
export function isLoopback(host: string): boolean {
  if (host.startsWith("/")) return true;
  const h = host.toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1" || h.startsWith("::ffff:127.");
  return false;
}
