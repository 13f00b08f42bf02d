import { SlotsyncError, type SlotsyncErrorOptions } from "../errors";

/**
 * A queue message body that this version of slotsync cannot accept: not JSON, not an object, an
 * unknown `v`, a missing or mistyped field. Never retryable — the same body fails the same way —
 * so a consumer sends the record to the dead-letter queue with {@link MessageFormatError.reason}
 * instead of dropping it.
 */
export class MessageFormatError extends SlotsyncError {
  /** One line for the DLQ reason attribute, e.g. `unknown message version 2` or `$.keys[3]: ...`. */
  readonly reason: string;
  /** JSON path of the problem (`$` is the whole body); undefined for an unknown version. */
  readonly path: string | undefined;

  constructor(reason: string, options: { path?: string; cause?: unknown; fix?: string } = {}) {
    const line = options.path === undefined ? reason : `${options.path}: ${reason}`;
    super(line, {
      cause: options.cause,
      retryable: false,
      where: options.path,
      fix: options.fix ?? "inspect the message in the dead-letter queue; it was not produced by this version",
    });
    this.reason = line;
    this.path = options.path;
  }
}

/** Something SQS did not accept, or an SQS call that failed. */
export interface QueueErrorOptions extends SlotsyncErrorOptions {
  /** Messages SQS did not accept (failed entries plus those never attempted after the failure). */
  notAccepted?: number;
  /** Messages the failed call was asked to send. */
  total?: number;
  /** The SQS error codes seen, e.g. `InternalError`, `ThrottlingException`; the first few only. */
  codes?: readonly string[];
}

/**
 * Publishing to SQS did not complete: {@link QueueError.notAccepted} of {@link QueueError.total}
 * messages were not accepted after the retries were exhausted. The caller must not advance the
 * replication slot; running the cycle again re-sends them (consumers are idempotent).
 */
export class QueueError extends SlotsyncError {
  readonly notAccepted: number;
  readonly total: number;
  readonly codes: readonly string[];

  constructor(message: string, options: QueueErrorOptions = {}) {
    super(message, options);
    this.notAccepted = options.notAccepted ?? 0;
    this.total = options.total ?? 0;
    this.codes = options.codes ?? [];
  }
}
