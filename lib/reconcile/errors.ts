import { SlotsyncError } from "../errors";

/** A reconcile or verify could not go on; `retryable` says whether the same page may work later. */
export class ReconcileError extends SlotsyncError {}
