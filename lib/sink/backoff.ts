import { setTimeout as delay } from "node:timers/promises";

/**
 * Time and chance, injected so retry behaviour can be tested without waiting or guessing.
 */
export interface SinkRuntime {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

/** The real clock, timers and `Math.random`. */
export const systemRuntime: SinkRuntime = {
  now: () => Date.now(),
  sleep: async (ms) => {
    await delay(ms);
  },
  random: () => Math.random(),
};

/**
 * Backoff before retry round `round` (0 for the first retry), "full jitter": a uniformly random
 * wait in [0, min(maxDelayMs, baseDelayMs * 2^round)). Full jitter spreads many consumers that
 * failed together (one overloaded cluster, many Lambdas) instead of having them retry in step.
 */
export function backoffDelay(
  round: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  // 2^round overflows to Infinity for large rounds; Math.min then caps it at maxDelayMs.
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** round);
  return Math.floor(random() * cap);
}
