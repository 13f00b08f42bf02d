import type pg from "pg";
import type { ReconcileConnection } from "./types";

/** Runs `work` in one REPEATABLE READ, read-only snapshot on a lent connection. */
export async function inSnapshot<T>(
  deps: { connect(): Promise<ReconcileConnection> },
  work: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  const lease = await deps.connect();
  let failure: Error | undefined;
  try {
    await lease.client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const result = await work(lease.client);
    await lease.client.query("COMMIT");
    return result;
  } catch (error) {
    failure = error as Error;
    await lease.client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    lease.release(failure);
  }
}
