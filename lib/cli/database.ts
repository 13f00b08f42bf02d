import pg from "pg";
import { SlotsyncError } from "../errors";
import { pgConnectionConfig } from "../runtime";

/** PostgreSQL could not be reached or refused the connection. `where` is `host:port/database`. */
export class DatabaseConnectError extends SlotsyncError {}

/** Host, port and database of a PostgreSQL URL, without the user's password. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, "")) || "(default database)";
    return `${u.hostname || "localhost"}:${u.port || "5432"}/${database}`;
  } catch {
    return "(PG_URL)";
  }
}

/**
 * Opens a client with slotsync's session settings (UTC, JIT off).
 * @throws DatabaseConnectError saying what went wrong and what to check, never echoing the password.
 */
export async function connectDatabase(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({
    ...pgConnectionConfig(url, applicationName),
    connectionTimeoutMillis: 15_000,
  });
  // A server that goes away later emits 'error' on the idle client; without a listener Node exits.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectError(error, url);
  }
  return client;
}

/** A pool with the same settings, for the consumers of `slotsync run`. */
export function createPool(url: string, applicationName: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    ...pgConnectionConfig(url, applicationName),
    max,
    connectionTimeoutMillis: 15_000,
  });
  pool.on("error", () => undefined);
  return pool;
}

/** Turns a connection failure into one line with the fix. */
export function connectError(error: unknown, url: string): DatabaseConnectError {
  const where = describePgUrl(url);
  const e = error as { code?: string; message?: string };
  const user = safeUser(url);
  const explain = (message: string, fix: string) =>
    new DatabaseConnectError(message, { where, fix, cause: error, retryable: true });
  switch (e.code) {
    case "ECONNREFUSED":
      return explain(
        "cannot connect to PostgreSQL: connection refused",
        "check the host and port in PG_URL and that the server is running",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return explain("cannot connect to PostgreSQL: unknown host", "check the host name in PG_URL");
    case "ETIMEDOUT":
    case "ECONNRESET":
      return explain(
        "cannot connect to PostgreSQL: the connection timed out or was reset",
        "check PG_URL, the network path and security groups",
      );
    case "28P01":
      return new DatabaseConnectError(`PostgreSQL refused the password of role "${user}"`, {
        where,
        fix: "check the user and password in PG_URL",
        cause: error,
      });
    case "28000":
      return new DatabaseConnectError(`PostgreSQL refused the connection: ${e.message ?? ""}`, {
        where,
        fix: "check the user in PG_URL and pg_hba.conf (or the RDS security settings)",
        cause: error,
      });
    case "3D000":
      return new DatabaseConnectError(`database does not exist: ${e.message ?? ""}`, {
        where,
        fix: "check the database name in PG_URL",
        cause: error,
      });
    default:
      if (/timeout/i.test(e.message ?? "")) {
        return explain("cannot connect to PostgreSQL: timed out", "check PG_URL and the network path");
      }
      return explain(
        `cannot connect to PostgreSQL: ${e.message || e.code || "unknown error"}`,
        "check PG_URL and that the server accepts connections",
      );
  }
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
  const code = (error as { code?: unknown }).code;
  if (error instanceof DatabaseConnectError) return true;
  if (typeof code !== "string") {
    // pg reports a dropped connection as a plain Error without code.
    return /Connection terminated|connection ended|Client has encountered a connection error/i.test(
      (error as Error)?.message ?? "",
    );
  }
  if (/^[A-Z]/.test(code)) return true; // ECONNRESET, EPIPE, ETIMEDOUT...
  return (
    code.startsWith("08") ||
    code.startsWith("40") ||
    code.startsWith("53") ||
    ["57P01", "57P02", "57P03"].includes(code)
  );
}
