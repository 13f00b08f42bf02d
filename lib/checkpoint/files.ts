import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { CheckpointError } from "./errors";
import { corrupt } from "./validate";

/**
 * Writes JSON so readers see the old or the new content, never a torn file: write a temporary
 * file in the same directory, fsync it, then rename it over the target (atomic on POSIX).
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(`${JSON.stringify(value)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
}

/** The parsed content, or undefined when the file does not exist. */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    return corrupt(path, "not JSON");
  }
}

/** True when a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How long {@link withLock} waits for a busy lock, and when a held lock counts as abandoned. */
export interface LockOptions {
  timeoutMs?: number;
  staleMs?: number;
}

/**
 * Runs `fn` while holding an exclusive lock file (`open(..., "wx")` fails if it exists), so
 * read-modify-write sequences from several processes, or several calls of one process, do not
 * interleave. A lock left by a dead process, or older than `staleMs`, is broken.
 *
 * Waiting here is the lock's own backoff, not synchronisation by sleeping: the loop ends as soon
 * as the file can be created.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const nonce = randomBytes(8).toString("hex");
  await mkdir(dirname(lockPath), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, nonce, at: Date.now() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = (await readFile(lockPath, "utf8").catch(() => "")) || "{}";
    let info: { pid?: number; at?: number } = {};
    try {
      info = JSON.parse(holder);
    } catch {
      // Being written right now: treat as held.
    }
    const abandoned =
      info.pid !== undefined &&
      (!pidAlive(info.pid) || (info.at !== undefined && Date.now() - info.at > staleMs));
    if (abandoned) {
      // Another waiter may break it at the same time; `wx` above still lets only one of us in.
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new CheckpointError(
        `the checkpoint lock ${lockPath} has been held by pid ${info.pid} for too long`,
        {
          retryable: true,
          where: lockPath,
          fix: "another slotsync process is using this state directory; if none runs, delete the lock file",
        },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) * (0.5 + Math.random())));
  }
  try {
    return await fn();
  } finally {
    // Remove only our own lock: if it was broken as stale and re-taken, it is someone else's now.
    const content = await readFile(lockPath, "utf8").catch(() => "");
    if (content.includes(nonce)) await unlink(lockPath).catch(() => {});
  }
}
