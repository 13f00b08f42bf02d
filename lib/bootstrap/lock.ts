import type { Lease, LeaseGrant } from "../checkpoint";
import { BootstrapBusyError } from "./errors";

/** How long the bootstrap lock lives without renewal; renewed every third of it while held. */
export const LOCK_TTL_MS = 120_000;

/**
 * The lease name of a slot's bootstrap lock. Bootstrap, completion and reset of one slot take
 * turns through it; it is a different lease from the poller's, so the poller is never blocked.
 */
export function lockName(slot: string): string {
  return `${slot.slice(0, 53)}_bootstrap`;
}

export interface LockOptions {
  holder: string;
  /** Keep trying for this long before giving up (0: one attempt). */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Runs `fn` holding the slot's bootstrap lock, renewing it meanwhile.
 * @throws BootstrapBusyError when another holder keeps it past `waitMs`.
 */
export async function withBootstrapLock<T>(
  lease: Lease,
  slot: string,
  options: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const name = lockName(slot);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const giveUpAt = now() + (options.waitMs ?? 0);
  let grant: LeaseGrant | null = await lease.acquire(name, options.holder, LOCK_TTL_MS);
  while (!grant) {
    if (now() >= giveUpAt) throw new BootstrapBusyError(slot, (await lease.holder(name))?.holderId);
    await sleep(Math.min(500, Math.max(1, giveUpAt - now())));
    grant = await lease.acquire(name, options.holder, LOCK_TTL_MS);
  }
  const held = grant;
  const timer = setInterval(() => {
    lease.renew(held, LOCK_TTL_MS).catch(() => undefined);
  }, LOCK_TTL_MS / 3);
  timer.unref?.();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    await lease.release(held).catch(() => undefined);
  }
}
