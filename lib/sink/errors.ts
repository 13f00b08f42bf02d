import { SlotsyncError, type SlotsyncErrorOptions } from "../errors";

/** Options of a `SinkError`: the base options plus what the engine answered. */
export interface SinkErrorOptions extends SlotsyncErrorOptions {
  /** HTTP status of the failing response; undefined when no response came (network, timeout). */
  httpStatus?: number;
  /** Engine error type (`security_exception`, `index_not_found_exception`) or `timeout`/`network`. */
  errorType?: string;
}

/**
 * The search engine refused a whole request, or could not be reached, in a way that no
 * per-document outcome can express: bad credentials, missing privileges, a missing index, an
 * unreachable cluster. `retryable` says whether the same call may succeed later unchanged.
 *
 * Messages never contain credentials: everything taken from the client or the engine is
 * scrubbed of the configured secrets first, and `cause` is a scrubbed copy, not the client's
 * error (whose metadata holds request headers and URLs).
 */
export class SinkError extends SlotsyncError {
  readonly httpStatus: number | undefined;
  readonly errorType: string | undefined;

  constructor(message: string, options: SinkErrorOptions = {}) {
    super(message, options);
    this.httpStatus = options.httpStatus;
    this.errorType = options.errorType;
  }
}
