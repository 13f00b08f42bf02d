import { isTransientDatabaseError } from "../database";
import { SlotsyncError } from "../errors";

/**
 * A batch error that retrying will not fix (bad credentials, missing privileges, a query the
 * schema makes invalid). In-process consumers (`slotsync run`, `slotsync bootstrap`) stop with it
 * instead of retrying for ever; in Lambda the queue's redrive policy ends the retries instead.
 */
export function isFatal(error: unknown): boolean {
  if (error === undefined) return false;
  if (error instanceof SlotsyncError) {
    const cause = (error as { cause?: unknown }).cause;
    return !error.retryable && !(cause !== undefined && isTransientDatabaseError(cause));
  }
  // A SQLSTATE (five digits or capitals) other than a connection or serialization failure.
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !isTransientDatabaseError(error);
}
