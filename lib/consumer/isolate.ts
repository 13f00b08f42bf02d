import type pg from "pg";
import { SlotsyncError } from "../errors";

/**
 * True when a build error belongs to the data it was building (a plugin throwing on a row, a
 * document that is not a JSON object, a statement timeout, a value PostgreSQL refuses): retrying
 * the same keys will fail the same way, so the keys that cause it are isolated and dead-lettered.
 * False for errors where another try may succeed (a lost connection, a serialization failure, a
 * server shutting down): those let the whole batch come again.
 */
export function isPoisonError(error: unknown): boolean {
  if (error instanceof SlotsyncError) return !error.retryable;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return false;
  // SQLSTATE classes 08 (connection), 40 (rollback), 53 (resources) and 57P (shutdown) pass.
  return !(code.startsWith("08") || code.startsWith("40") || code.startsWith("53") || code.startsWith("57P"));
}

/** One line naming a build error: the slotsync form when there is one. */
export function reasonOf(error: unknown): string {
  if (error instanceof SlotsyncError) return error.toLine();
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Runs `work` inside a savepoint of the batch's transaction, so a statement that fails leaves the
 * transaction (and its snapshot) usable for the next try. Rethrows the failure.
 */
export async function inSavepoint<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query("SAVEPOINT slotsync_build");
  try {
    const result = await work();
    await client.query("RELEASE SAVEPOINT slotsync_build");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK TO SAVEPOINT slotsync_build");
    } catch {
      // The connection is gone: the original error says what happened.
    }
    throw error;
  }
}

/** When {@link bisect} must stop trying: the invocation's deadline. */
export interface BisectDeadline {
  /** Epoch ms after which no further try starts. */
  deadline: number;
  now?: () => number;
}

/**
 * Builds `items` in one call when it can; when that call fails with a poison error, splits the
 * items in halves and tries each, down to the single item that causes it. Returns the results of
 * every item that built, and each item that cannot be built with its error. A non-poison error
 * (or the one `stop` returns for a poison error, e.g. schema drift) is thrown at once.
 *
 * With a deadline, no try after the first starts past it (each try can take as long as a
 * statement timeout): the items not yet settled come back in `unsettled`, to be tried again later,
 * neither built nor judged poison.
 */
export async function bisect<I, R>(
  items: readonly I[],
  build: (items: readonly I[]) => Promise<R[]>,
  stop: (error: unknown) => Promise<unknown>,
  limit?: BisectDeadline,
): Promise<{ results: R[]; poisoned: { item: I; error: unknown }[]; unsettled: I[] }> {
  const results: R[] = [];
  const poisoned: { item: I; error: unknown }[] = [];
  const unsettled: I[] = [];
  const now = limit?.now ?? Date.now;
  let first = true;
  const visit = async (part: readonly I[]): Promise<void> => {
    if (part.length === 0) return;
    if (!first && limit !== undefined && now() >= limit.deadline) {
      unsettled.push(...part);
      return;
    }
    first = false;
    try {
      results.push(...(await build(part)));
      return;
    } catch (error) {
      if (!isPoisonError(error)) throw error;
      const abort = await stop(error);
      if (abort !== undefined) throw abort;
      if (part.length === 1) {
        poisoned.push({ item: part[0] as I, error });
        return;
      }
    }
    const half = Math.ceil(part.length / 2);
    await visit(part.slice(0, half));
    await visit(part.slice(half));
  };
  await visit(items);
  return { results, poisoned, unsettled };
}

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Tries in all (default 4). */
  attempts?: number;
  /** First pause, doubled after each failure (default 250 ms). */
  baseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Calls `fn` again after a short backoff when it fails with an error a retry can fix (a slotsync
 * error marked retryable, or a network failure that is no slotsync error): a checkpoint store
 * blip is ridden out in process instead of failing the batch and using up the records' receives.
 */
export async function retryTransient<T>(
  fn: () => Promise<T>,
  options: RetryTransientOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let delay = options.baseMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const transient = error instanceof SlotsyncError ? error.retryable : error instanceof Error;
      if (!transient || attempt >= attempts) throw error;
      await sleep(delay);
      delay *= 2;
    }
  }
}
