import pg from "pg";
import { connectError, DatabaseConnectError, describePgUrl } from "./errors";
import { type ConnectionPolicy, DEFAULT_CONNECT_TIMEOUT_MS, decideTls } from "./tls";

/** `pg`'s client settings plus what {@link DatabaseClient} enforces on top. */
export interface DatabaseClientConfig extends pg.ClientConfig {
  /** Fail instead of sending the password when a plaintext connection is asked for it in cleartext. */
  readonly refuseCleartextPassword?: boolean;
}

/**
 * The settings every slotsync connection uses: TLS as {@link decideTls} decides from the URL and the
 * policy, a connect timeout, and the session settings. Documents render timestamps in the session's
 * time zone (as PGSync's do), so all processes agree on UTC; JIT compilation costs more than it
 * saves on the short document queries.
 *
 * @throws ConfigError when the URL's TLS parameters are wrong.
 */
export function pgConnectionConfig(
  url: string,
  applicationName: string,
  policy: ConnectionPolicy = {},
): DatabaseClientConfig {
  const tls = decideTls(url, policy);
  return {
    connectionString: tls.connectionString,
    ssl: tls.ssl,
    connectionTimeoutMillis: policy.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: applicationName,
    options: "-c TimeZone=UTC -c jit=off",
    refuseCleartextPassword: tls.refuseCleartextPassword,
  };
}

type ConnectCallback = (err: Error | null, client?: pg.Client) => void;

/**
 * A `pg.Client` that turns every connection failure into a {@link DatabaseConnectError} naming the
 * server and the fix, and that never sends a password in cleartext over a connection nobody asked
 * to be plaintext. Use it directly, or as the pool's client class ({@link createPool}).
 */
export class DatabaseClient extends pg.Client {
  private readonly where: string;
  private readonly timeoutMs: number | undefined;

  constructor(config: DatabaseClientConfig) {
    super(config);
    const url = config.connectionString ?? "";
    this.where = url;
    this.timeoutMs = config.connectionTimeoutMillis;
    if (config.refuseCleartextPassword) this.guardCleartext(describePgUrl(url));
  }

  /**
   * pg answers an `AuthenticationCleartextPassword` request by sending the password. Our listener
   * runs first (it is attached before `connect` attaches pg's), marks the request, and the password
   * callback then fails instead of handing the password over.
   */
  private guardCleartext(where: string): void {
    let cleartextAsked = false;
    this.connection.on("authenticationCleartextPassword", () => {
      cleartextAsked = true;
    });
    const self = this as unknown as { password: unknown };
    const password = self.password;
    self.password = async () => {
      if (cleartextAsked) {
        throw new DatabaseConnectError(
          "PostgreSQL asked for the password in cleartext over an unencrypted connection; slotsync did not send it",
          {
            where,
            fix: "turn on TLS (ssl=on on the server, sslmode=require or stricter in PG_URL), switch the server to scram-sha-256, or, on a network you trust, add sslmode=disable to PG_URL",
          },
        );
      }
      if (typeof password === "function") return await (password as () => Promise<string>)();
      // undefined lets pg carry on without a password (pgpass, trust); null would be an error.
      return typeof password === "string" ? password : undefined;
    };
  }

  override connect(): Promise<pg.Client>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.Client> | undefined {
    const explain = (error: Error) => connectError(error, this.where, this.timeoutMs);
    if (callback) {
      super.connect((error: Error | null) => (error ? callback(explain(error)) : callback(null, this)));
      return undefined;
    }
    return super.connect().then(
      () => this,
      (error: Error) => {
        throw explain(error);
      },
    );
  }
}

/**
 * Opens a client with slotsync's settings.
 * @throws DatabaseConnectError saying what went wrong and what to check, never echoing the password.
 */
export async function connectDatabase(
  url: string,
  applicationName: string,
  policy: ConnectionPolicy = {},
): Promise<pg.Client> {
  const client = new DatabaseClient(pgConnectionConfig(url, applicationName, policy));
  // A server that goes away later emits 'error' on the idle client; without a listener Node exits.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * A pool with the same settings, whose connection failures are {@link DatabaseConnectError}s.
 * `onIdleError` hears about idle connections the server closed (the pool opens new ones).
 */
export function createPool(
  url: string,
  applicationName: string,
  max: number,
  policy: ConnectionPolicy = {},
  onIdleError: (error: Error) => void = () => undefined,
): pg.Pool {
  const pool = new pg.Pool({
    ...pgConnectionConfig(url, applicationName, policy),
    max,
    Client: DatabaseClient as unknown as new () => pg.ClientBase,
  });
  pool.on("error", onIdleError);
  return pool;
}

/** A connection lent from a pool; `release` gives it back (with an error, the pool drops it). */
export interface LentClient {
  client: pg.ClientBase;
  release(error?: Error): void;
}

/**
 * Lends `pool`'s connections one at a time: the `connect` that the consumer, reconcile and verify
 * take, so each holds a connection only for the snapshot it works in.
 */
export function lender(pool: Pick<pg.Pool, "connect">): () => Promise<LentClient> {
  return async () => {
    const client = await pool.connect();
    return { client, release: (error?: Error) => client.release(error) };
  };
}
