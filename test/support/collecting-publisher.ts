import type { Handoff, HandoffPublisher } from "../../lib/poller";

/**
 * Records what the poller hands on, in order. Optionally refuses the next N publish calls, as a
 * queue that is down would, to test that nothing is advanced past work that was not accepted.
 */
export class CollectingPublisher implements HandoffPublisher {
  readonly accepted: Handoff[] = [];
  failNext = 0;

  async publish(handoffs: Handoff[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("queue unavailable (injected)");
    }
    this.accepted.push(...handoffs);
  }

  /** Root keys handed on for `index` since the last `clear()`, as `a|b` strings, sorted. */
  keys(index: string): string[] {
    const keys = new Set<string>();
    for (const h of this.accepted)
      if (h.kind === "keys" && h.index === index) for (const k of h.keys) keys.add(k.join("|"));
    return [...keys].sort();
  }

  clear(): void {
    this.accepted.length = 0;
  }
}
