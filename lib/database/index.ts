/**
 * PostgreSQL connections: one place that decides TLS (sslmode, CAs, the loopback default), the
 * connect timeout and the session settings, and explains connection failures.
 */
export {
  connectDatabase,
  createPool,
  DatabaseClient,
  type DatabaseClientConfig,
  pgConnectionConfig,
} from "./client";
export { connectError, DatabaseConnectError, describePgUrl, isTransientDatabaseError } from "./errors";
export {
  type ConnectionPolicy,
  DEFAULT_CONNECT_TIMEOUT_MS,
  decideTls,
  isLoopback,
  LAMBDA_CA_BUNDLE,
  readCaBundle,
  type SslMode,
  type TlsDecision,
} from "./tls";
