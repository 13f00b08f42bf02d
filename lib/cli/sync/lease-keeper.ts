import { SlotsyncError } from "../../errors";
import type { PollerCheckpoint, PollerHeartbeat, PollerStateStore, TransactionProgress } from "../../poller";

/** What one poller cycle did, as `slotsync run` logs it. */
export interface CycleReport {
  heartbeat: PollerHeartbeat;
  /** Present when the cycle advanced the slot. */
  checkpoint: PollerCheckpoint | undefined;
}

/**
 * The poller's state port with two additions for `slotsync run`: it reports every finished cycle
 * (the loop itself only returns a summary at the end), and it can extend the lease between the
 * loop's own renewals, while a publish waits for slow consumers.
 */
export class LeaseKeeper implements PollerStateStore {
  private held: { slot: string; token: number; ttlMs: number } | undefined;
  private lastCheckpoint: PollerCheckpoint | undefined;

  constructor(
    private readonly inner: PollerStateStore,
    private readonly onCycle: (report: CycleReport) => void = () => undefined,
  ) {}

  async acquire(slot: string, holder: string, ttlMs: number): Promise<{ token: number } | null> {
    const grant = await this.inner.acquire(slot, holder, ttlMs);
    this.held = grant ? { slot, token: grant.token, ttlMs } : undefined;
    return grant;
  }

  renew(slot: string, token: number, ttlMs: number): Promise<boolean> {
    return this.inner.renew(slot, token, ttlMs);
  }

  async release(slot: string, token: number): Promise<void> {
    this.held = undefined;
    await this.inner.release(slot, token);
  }

  async checkpoint(slot: string, token: number, checkpoint: PollerCheckpoint): Promise<void> {
    await this.inner.checkpoint(slot, token, checkpoint);
    this.lastCheckpoint = checkpoint;
  }

  async readLeaves(slot: string): Promise<string[] | null> {
    return this.inner.readLeaves ? this.inner.readLeaves(slot) : null;
  }

  async writeLeaves(slot: string, token: number, leaves: string[]): Promise<void> {
    await this.inner.writeLeaves?.(slot, token, leaves);
  }

  async readProgress(slot: string): Promise<TransactionProgress | null> {
    return this.inner.readProgress ? this.inner.readProgress(slot) : null;
  }

  async writeProgress(slot: string, token: number, progress: TransactionProgress | null): Promise<void> {
    await this.inner.writeProgress?.(slot, token, progress);
  }

  async heartbeat(slot: string, token: number, heartbeat: PollerHeartbeat): Promise<void> {
    await this.inner.heartbeat(slot, token, heartbeat);
    const checkpoint = this.lastCheckpoint;
    this.lastCheckpoint = undefined;
    this.onCycle({ heartbeat, checkpoint });
  }

  /**
   * Extends the held lease now.
   * @throws SlotsyncError (retryable) when the lease was lost: the cycle must not advance the slot.
   */
  async keepAlive(): Promise<void> {
    const held = this.held;
    if (!held) return;
    if (!(await this.inner.renew(held.slot, held.token, held.ttlMs))) {
      throw new SlotsyncError(`lost the lease of slot "${held.slot}" while consumers were working`, {
        retryable: true,
        where: `slot ${held.slot}`,
        fix: "another poller took the slot over; this one stops its cycle without advancing the slot",
      });
    }
  }
}
