import { SlotsyncError } from "../errors";

/**
 * PostgreSQL could not be reached, refused the connection, or the TLS handshake failed. `where` is
 * `host:port/database`; `retryable` is false when only a change of settings can help.
 */
export class DatabaseConnectError extends SlotsyncError {}

/** Host, port and database of a PostgreSQL URL, without the user's password. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, "")) || "(default database)";
    return `${u.searchParams.get("host") ?? (u.hostname || "localhost")}:${u.port || "5432"}/${database}`;
  } catch {
    return "(PG_URL)";
  }
}

/** What a certificate problem means for the operator, by Node's TLS error code. */
const CA_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

const CA_FIX =
  "give the CA that signed the server's certificate: sslrootcert=/path/ca.pem in PG_URL (for Amazon RDS/Aurora the bundle from https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem; in Lambda the stack trusts the runtime's /var/runtime/ca-cert.pem, which holds it). sslmode=require encrypts without checking, sslmode=disable turns TLS off: use them only on a network you trust";

/**
 * Turns a connection failure into one message that names the server and the fix, never echoing
 * the password. `timeoutMs` is the connect timeout that applied, for the message.
 */
export function connectError(error: unknown, url: string, timeoutMs?: number): DatabaseConnectError {
  if (error instanceof DatabaseConnectError) return error;
  const where = describePgUrl(url);
  const e = (error ?? {}) as { code?: string; message?: string };
  const message = e.message ?? "";
  const user = safeUser(url);
  const fail = (text: string, fix: string, retryable: boolean) =>
    new DatabaseConnectError(text, { where, fix, cause: error, retryable });
  if (e.code && CA_CODES.has(e.code)) {
    return fail(
      `TLS handshake with PostgreSQL failed: the server's certificate is not signed by a trusted CA (${e.code})`,
      CA_FIX,
      false,
    );
  }
  if (e.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return fail(
      "TLS handshake with PostgreSQL failed: the server's certificate is not valid for this host name",
      "connect by the name in the certificate (the RDS endpoint, not an address or a CNAME), or use sslmode=verify-ca to check the CA only",
      false,
    );
  }
  if (e.code === "CERT_HAS_EXPIRED" || e.code === "CERT_NOT_YET_VALID") {
    return fail(
      `TLS handshake with PostgreSQL failed: the server's certificate is not valid now (${e.code})`,
      "renew or rotate the server's certificate (RDS: modify the instance's certificate authority)",
      false,
    );
  }
  if (/does not support SSL/i.test(message)) {
    return fail(
      "PostgreSQL does not accept TLS connections, and slotsync uses TLS for every host but loopback",
      "turn on ssl on the server; only on a network you trust add sslmode=disable to PG_URL",
      false,
    );
  }
  switch (e.code) {
    case "ECONNREFUSED":
      return fail(
        "cannot connect to PostgreSQL: connection refused",
        "check the host and port in PG_URL and that the server is running",
        true,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return fail(
        "cannot connect to PostgreSQL: unknown host",
        "check the host name in PG_URL (a private endpoint resolves only inside its VPC)",
        true,
      );
    case "ETIMEDOUT":
    case "ECONNRESET":
      return timeoutError(error, where, timeoutMs);
    case "28P01":
      return new DatabaseConnectError(`PostgreSQL refused the password of role "${user}"`, {
        where,
        fix: "check the user and password in PG_URL",
        cause: error,
      });
    case "28000":
      return new DatabaseConnectError(`PostgreSQL refused the connection: ${message}`, {
        where,
        fix: /no encryption/i.test(message)
          ? "the server accepts only TLS connections: leave sslmode out of PG_URL or use require/verify-ca/verify-full"
          : "check the user in PG_URL and pg_hba.conf (or the RDS security settings)",
        cause: error,
      });
    case "3D000":
      return new DatabaseConnectError(`database does not exist: ${message}`, {
        where,
        fix: "check the database name in PG_URL",
        cause: error,
      });
    default:
      if (/timeout|timed out/i.test(message)) return timeoutError(error, where, timeoutMs);
      return fail(
        `cannot connect to PostgreSQL: ${message || e.code || "unknown error"}`,
        "check PG_URL and that the server accepts connections",
        true,
      );
  }
}

function timeoutError(error: unknown, where: string, timeoutMs: number | undefined): DatabaseConnectError {
  const within = timeoutMs ? ` within ${timeoutMs / 1000} s` : "";
  return new DatabaseConnectError(
    `PostgreSQL did not answer${within}: the connection timed out or was reset`,
    {
      where,
      fix: "check that the database's security group allows the functions' security group on the port, that the functions run in the database's VPC and subnets (vpcId, subnetIds), and, for a public endpoint, that private subnets route out through a NAT gateway",
      cause: error,
      retryable: true,
    },
  );
}

function safeUser(url: string): string {
  try {
    return decodeURIComponent(new URL(url).username) || "(default)";
  } catch {
    return "(unknown)";
  }
}

/** SQLSTATE classes and network codes after which the same statement may succeed later. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof DatabaseConnectError) return error.retryable;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") {
    // pg reports a dropped connection as a plain Error without code.
    return /Connection terminated|connection ended|Client has encountered a connection error/i.test(
      (error as Error)?.message ?? "",
    );
  }
  if (CA_CODES.has(code) || code.startsWith("CERT_") || code === "ERR_TLS_CERT_ALTNAME_INVALID") return false;
  if (/^[A-Z]/.test(code)) return true; // ECONNRESET, EPIPE, ETIMEDOUT...
  return (
    code.startsWith("08") ||
    code.startsWith("40") ||
    code.startsWith("53") ||
    ["57P01", "57P02", "57P03"].includes(code)
  );
}
