import { SlotsyncError, type SlotsyncErrorOptions } from "../errors";

/**
 * The checkpoint store failed: unreachable (retryable; the message names the host, never the
 * token), refused the credentials, holds data this version cannot read, or was given an invalid
 * slot name, id or value (not retryable; `where` names it).
 */
export class CheckpointError extends SlotsyncError {}

/**
 * A fenced write carried a lease token that is no longer the slot's current lease: the lease
 * expired or another poller took over. The write was refused atomically and nothing changed.
 * Not retryable: the caller must stop its cycle without advancing the slot.
 */
export class LeaseLostError extends CheckpointError {
  readonly slot: string;
  readonly token: number;
  /** The token of the lease that holds the slot now; null when no lease is held. */
  readonly currentToken: number | null;

  constructor(slot: string, token: number, currentToken: number | null, options: SlotsyncErrorOptions = {}) {
    const now = currentToken === null ? "no poller holds it now" : `lease ${currentToken} holds it now`;
    super(`lease ${token} on slot "${slot}" was lost (${now}); the write was refused`, {
      retryable: false,
      where: slot,
      fix: "stop this cycle without advancing the slot; the next scheduled run acquires a new lease",
      ...options,
    });
    this.slot = slot;
    this.token = token;
    this.currentToken = currentToken;
  }
}
