/**
 * How `write` reads the engine's answers: one table for bulk items, one for whole responses.
 * Kept free of I/O so the tables can be tested on their own.
 */

/** What to do with one bulk item. */
export interface ItemVerdict {
  status: "ok" | "stale" | "retry" | "rejected";
  httpStatus: number | undefined;
  errorType?: string;
  reason?: string;
  /**
   * Set when the item failed for a reason that fails every item aimed at the same target
   * (missing index, missing privilege); `write` throws when a whole batch fails this way.
   */
  fatal?: "index_not_found" | "forbidden";
}

/**
 * Classifies one entry of a `_bulk` response's `items`:
 *
 * | item                                              | verdict     |
 * |---------------------------------------------------|-------------|
 * | 200/201 (created, updated, deleted, noop)         | ok          |
 * | 404 `not_found` on a delete, no error             | ok (the tombstone is written) |
 * | 409 `version_conflict_engine_exception`           | stale (a newer version is there) |
 * | an ingest processor's failure (any status but 429) | rejected, naming the pipeline and processor |
 * | 429 (`es_rejected_execution_exception`), 5xx, 408 | retry       |
 * | 404 `index_not_found_exception`                   | rejected, fatal `index_not_found` |
 * | 401/403 (`security_exception`)                    | rejected, fatal `forbidden` |
 * | other 4xx (mapping, parsing, illegal argument)    | rejected with the engine's reason |
 * | anything unreadable                               | retry       |
 */
export function classifyItem(item: unknown): ItemVerdict {
  const result = firstValue(item);
  const httpStatus = typeof result?.status === "number" ? result.status : undefined;
  if (result === undefined || httpStatus === undefined) {
    return {
      status: "retry",
      httpStatus,
      errorType: "unreadable_item",
      reason: "the engine's answer had no status",
    };
  }
  const error = describeError(result.error);
  if (httpStatus >= 200 && httpStatus < 300 && result.error === undefined)
    return { status: "ok", httpStatus };
  if (httpStatus === 404 && result.error === undefined && result.result === "not_found") {
    return { status: "ok", httpStatus };
  }
  if (httpStatus === 409 || error.type === "version_conflict_engine_exception") {
    return { status: "stale", httpStatus, errorType: error.type, reason: error.reason };
  }
  const pipeline = pipelineFailure(result.error);
  if (pipeline && httpStatus !== 429) {
    // The document's own content failed a processor: sending it again fails the same way (some
    // engine versions answer such failures with 500, which would otherwise be retried forever).
    const where = [
      pipeline.pipeline ? `ingest pipeline "${pipeline.pipeline}"` : "the ingest pipeline",
      pipeline.processor ? `${pipeline.processor} processor` : undefined,
    ]
      .filter(Boolean)
      .join(", ");
    return {
      status: "rejected",
      httpStatus,
      errorType: error.type,
      reason: `${where} failed: ${formatError(error)}`,
    };
  }
  if (httpStatus === 429 || httpStatus === 408 || httpStatus >= 500) {
    return { status: "retry", httpStatus, errorType: error.type, reason: error.reason };
  }
  if (error.type === "index_not_found_exception") {
    return {
      status: "rejected",
      httpStatus,
      errorType: error.type,
      reason: error.reason,
      fatal: "index_not_found",
    };
  }
  if (httpStatus === 401 || httpStatus === 403) {
    return {
      status: "rejected",
      httpStatus,
      errorType: error.type,
      reason: error.reason,
      fatal: "forbidden",
    };
  }
  if (httpStatus >= 400 && httpStatus < 500) {
    return { status: "rejected", httpStatus, errorType: error.type, reason: error.reason };
  }
  return { status: "retry", httpStatus, errorType: error.type, reason: error.reason };
}

/** What to do with a whole `_bulk` response, by HTTP status. */
export type RequestVerdict =
  /** Read the items. */
  | "items"
  /** Resend everything later: overload, gateway trouble, engine restart. */
  | "retry"
  /** A deterministic refusal of the request as a whole (400, 413): split it to find the culprit. */
  | "split"
  /** Credentials or privileges: nothing in the batch can succeed. */
  | "auth"
  /** Anything else (wrong URL, a proxy's 404/405, an unsupported API version): a setup problem. */
  | "fatal";

/** Classifies the HTTP status of a whole `_bulk` response. */
export function classifyRequestStatus(status: number): RequestVerdict {
  if (status >= 200 && status < 300) return "items";
  if (status === 401 || status === 403) return "auth";
  if (status === 400 || status === 413) return "split";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "fatal";
}

/**
 * The fix for HTTP 406: the server refused the Elasticsearch client's versioned media type
 * (`application/vnd.elasticsearch+json; compatible-with=8`), which is what OpenSearch (and
 * Elasticsearch before 7.11) answer.
 */
export const WRONG_ENGINE_FIX =
  "the server does not speak the Elasticsearch 8 API: for OpenSearch set engine to opensearch (OPENSEARCH=true); Elasticsearch must be 8 or 9";

/** True when a failed admin request (not a bulk) may succeed if sent again unchanged. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 502 || status === 503 || status === 504;
}

/** An engine error reduced to its type and a one-line reason, caused-by chain included. */
export interface ErrorDescription {
  type: string | undefined;
  reason: string;
}

/**
 * Reads an engine error (`{type, reason, caused_by}`, a whole error response, or plain text from
 * a proxy) into a type and a reason of at most 500 characters.
 */
export function describeError(error: unknown): ErrorDescription {
  if (error === undefined || error === null) return { type: undefined, reason: "" };
  if (typeof error === "string") return { type: undefined, reason: clip(error.trim()) };
  if (typeof error !== "object") return { type: undefined, reason: clip(String(error)) };
  const record = error as Record<string, unknown>;
  // A whole response: {"error": {...} | "text", "status": 400}
  if ("error" in record && !("type" in record)) return describeError(record.error);
  const type = typeof record.type === "string" ? record.type : undefined;
  let reason = typeof record.reason === "string" ? record.reason : "";
  const cause = record.caused_by;
  if (cause && typeof cause === "object") {
    const inner = describeError(cause);
    if (inner.reason && !reason.includes(inner.reason)) {
      reason = `${reason} (caused by ${inner.type ?? "error"}: ${inner.reason})`;
    }
  }
  return { type, reason: clip(reason || (type ?? "unknown error")) };
}

/** `type: reason`, or just the reason when there is no type. */
export function formatError(error: ErrorDescription): string {
  return error.type ? `${error.type}: ${error.reason}` : error.reason;
}

function clip(text: string): string {
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function firstValue(item: unknown): Record<string, unknown> | undefined {
  if (item === null || typeof item !== "object") return undefined;
  for (const value of Object.values(item)) {
    if (value !== null && typeof value === "object") return value as Record<string, unknown>;
  }
  return undefined;
}

/**
 * The pipeline and processor named by an ingest failure: the engines put `processor_type` (and,
 * on Elasticsearch, `pipeline_origin`) in the error's headers, or at its top level for a processor
 * that does not exist. Undefined for any other error.
 */
export function pipelineFailure(error: unknown): { pipeline?: string; processor?: string } | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const record = error as Record<string, unknown>;
  const header = (record.header ?? {}) as Record<string, unknown>;
  const first = (value: unknown): string | undefined => {
    const v = Array.isArray(value) ? value[0] : value;
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const processor = first(record.processor_type) ?? first(header.processor_type);
  const origin = record.pipeline_origin ?? header.pipeline_origin;
  // pipeline_origin lists every pipeline on the way (the schema's and those it calls).
  const names = (Array.isArray(origin) ? origin : [origin]).filter(
    (o): o is string => typeof o === "string" && o !== "",
  );
  const pipeline = names.length > 0 ? names.join('", "') : undefined;
  if (processor === undefined && pipeline === undefined) {
    const cause = record.caused_by;
    return cause ? pipelineFailure(cause) : undefined;
  }
  return {
    ...(pipeline === undefined ? {} : { pipeline }),
    ...(processor === undefined ? {} : { processor }),
  };
}
