import type { Lsn, SlotReader, WalBegin } from "../slot";
import type { TransactionProgress, TransactionProgressStore } from "./ports";

/** A transaction with at least this many changes is reported while it is handed on. */
export const DEFAULT_LARGE_TRANSACTION_CHANGES = 100_000;
/** How often a large transaction in progress is reported, at most. */
export const DEFAULT_LARGE_TRANSACTION_REPORT_MS = 10_000;

/**
 * What the poller says about a large transaction. `in-progress`: being handed on (reported when
 * it becomes large, then every report interval); `paused`: the run ended inside it, the next run
 * goes on after `handedOnThrough`; `done`: handed on whole, the slot may move past it.
 */
export interface LargeTransactionReport {
  state: "in-progress" | "paused" | "done";
  xid: number;
  /** End of its commit record. */
  endLsn: Lsn;
  /** Changes decoded so far, earlier runs included. */
  changes: number;
  /** Its last change handed on so far, if any. */
  handedOnThrough: Lsn | undefined;
  /** Whether this run started after changes an earlier run had handed on. */
  resumed: boolean;
  /** When the first run began handing it on (ISO 8601). */
  startedAt: string;
}

/**
 * The progress record names a transaction that the slot's peek does not return where it said.
 * The record is removed; the next cycle reads the transaction whole (keys are sent again, which
 * is safe). Retrying helps.
 */
export class ProgressMismatchError extends Error {
  readonly retryable = true;
  constructor(
    readonly xid: number,
    readonly expected: Lsn,
    readonly found: Lsn,
  ) {
    super(
      `the saved progress of transaction ${xid} names its commit end ${expected}, the slot returned ${found}; the progress was discarded and the next cycle reads the transaction whole`,
    );
    this.name = "ProgressMismatchError";
  }
}

interface Open {
  xid: number;
  endLsn: Lsn;
  changes: number;
  /** Last change read (it is handed on once the cycle's pending keys are). */
  lastLsn: Lsn | undefined;
  resumed: boolean;
  startedAt: string;
  reportedAt: number | undefined;
}

export interface TrackerOptions {
  largeChanges: number;
  reportEveryMs: number;
  now: () => number;
}

/**
 * Follows the transaction a cycle is reading: counts its changes, keeps its progress in the
 * store once part of it was handed on, reports it while it is large, and on the next cycle tells
 * the peek which of its changes to leave out.
 */
export class TransactionTracker {
  private resume: TransactionProgress | null = null;
  private open: Open | undefined;
  /** The slot's position during this cycle (before its advance), read on first need. */
  private slotAt: Lsn | undefined;
  /** Whether the store holds a record (read or written by this cycle). */
  private stored = false;

  constructor(
    private readonly reader: SlotReader,
    private readonly store: TransactionProgressStore | undefined,
    private readonly report: ((report: LargeTransactionReport) => void) | undefined,
    private readonly options: TrackerOptions,
  ) {}

  /** Reads the saved progress; returns what the peek should leave out, if anything. */
  async load(): Promise<{ xid: number; afterLsn: Lsn } | undefined> {
    const saved = (await this.store?.read()) ?? null;
    if (!saved) return undefined;
    this.stored = true;
    this.slotAt = (await this.reader.info()).confirmedFlushLsn ?? undefined;
    if (saved.slotAt !== this.slotAt) {
      // The slot moved since (the transaction was finished, or the slot reset): nothing to skip.
      await this.clear();
      return undefined;
    }
    this.resume = saved;
    return { xid: saved.xid, afterLsn: saved.handedOnThrough };
  }

  /** A transaction begins. Throws {@link ProgressMismatchError} when the saved progress does not fit it. */
  async begin(event: WalBegin): Promise<void> {
    const resume = this.resume?.xid === event.xid ? this.resume : undefined;
    if (resume && resume.endLsn !== event.endLsn) {
      this.resume = null;
      await this.clear();
      throw new ProgressMismatchError(event.xid, resume.endLsn, event.endLsn);
    }
    this.open = {
      xid: event.xid,
      endLsn: event.endLsn,
      changes: resume?.changes ?? 0,
      lastLsn: resume?.handedOnThrough,
      resumed: resume !== undefined,
      startedAt: resume?.startedAt ?? new Date(this.options.now()).toISOString(),
      reportedAt: undefined,
    };
    if (resume) this.emit("in-progress");
  }

  /** A change of the open transaction was read. */
  change(lsn: Lsn): void {
    if (!this.open) return;
    this.open.changes++;
    this.open.lastLsn = lsn;
    const due =
      this.open.reportedAt === undefined
        ? this.open.changes >= this.options.largeChanges
        : this.options.now() - this.open.reportedAt >= this.options.reportEveryMs;
    if (due) this.emit("in-progress");
  }

  /** Everything read so far was handed on: within a transaction, its progress is saved. */
  async handedOn(): Promise<void> {
    if (!this.open || this.open.lastLsn === undefined || !this.store) return;
    await this.save(this.open);
  }

  /** The open transaction's commit was read. */
  commit(): void {
    if (this.open && this.open.reportedAt !== undefined) this.emit("done");
    this.open = undefined;
  }

  /**
   * The cycle stopped inside a transaction, after everything read was handed on and the slot was
   * advanced to the last whole transaction: keep the place for the next run.
   */
  async pause(advanced: boolean): Promise<void> {
    // The slot moved: its position is read again for the record.
    if (advanced) this.slotAt = undefined;
    const open = this.open;
    if (open?.lastLsn === undefined) return this.finish(advanced);
    if (this.store) await this.save(open);
    this.emit("paused");
  }

  /** The cycle ended with whole transactions only: a saved record is now obsolete. */
  async finish(moved: boolean): Promise<void> {
    if (this.stored && moved) await this.clear();
  }

  private async save(open: Open): Promise<void> {
    if (!this.store || open.lastLsn === undefined) return;
    this.slotAt ??= (await this.reader.info()).confirmedFlushLsn ?? undefined;
    if (this.slotAt === undefined) return;
    await this.store.write({
      xid: open.xid,
      endLsn: open.endLsn,
      slotAt: this.slotAt,
      handedOnThrough: open.lastLsn,
      changes: open.changes,
      startedAt: open.startedAt,
    });
    this.stored = true;
  }

  private async clear(): Promise<void> {
    await this.store?.write(null);
    this.stored = false;
  }

  private emit(state: LargeTransactionReport["state"]): void {
    const open = this.open;
    if (!open) return;
    open.reportedAt = this.options.now();
    this.report?.({
      state,
      xid: open.xid,
      endLsn: open.endLsn,
      changes: open.changes,
      handedOnThrough: open.lastLsn,
      resumed: open.resumed,
      startedAt: open.startedAt,
    });
  }
}
