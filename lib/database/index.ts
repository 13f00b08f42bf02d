/**
 * PostgreSQL connections: one place that decides TLS (sslmode, CAs, the loopback default), the
 * connect timeout and the session settings, and explains connection failures.
 */
export { connectDatabase, createPool, type LentClient, lender, pgConnectionConfig } from "./client";
export { DatabaseConnectError, describePgUrl, isTransientDatabaseError } from "./errors";
export { type ConnectionPolicy, decideTls, isLoopback, readCaBundle, type TlsDecision } from "./tls";
