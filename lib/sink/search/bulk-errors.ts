/** The errors `write` throws when nothing in a batch can succeed: setup problems, not data. */
import { redactText } from "../../security";
import { SinkError } from "../errors";
import type { SinkOperation, SinkOutcome } from "../types";
import { describeError, formatError, type ItemVerdict } from "./classify";
import type { EngineResponse } from "./transport";

/** A non-retryable `SinkError` with the secrets taken out of its message. */
export function bulkError(
  secrets: readonly string[],
  message: string,
  httpStatus: number | undefined,
  fix: string,
  errorType?: string,
): SinkError {
  return new SinkError(redactText(message, secrets), { httpStatus, errorType, fix, retryable: false });
}

/** The error for a `_bulk` refused for its credentials (401) or privileges (403). */
export function bulkAuthError(response: EngineResponse, secrets: readonly string[]): SinkError {
  const error = describeError(response.body);
  const detail = formatError(error) || "no details";
  if (response.status === 401) {
    return bulkError(
      secrets,
      `the search engine refused the credentials (HTTP 401): ${detail}`,
      401,
      "check the API key (ELASTICSEARCH_API_KEY_ID / ELASTICSEARCH_API_KEY), the user and password, or the AWS role",
      error.type,
    );
  }
  return bulkError(
    secrets,
    `the credentials lack a privilege the bulk request needs (HTTP ${response.status}): ${detail}`,
    response.status,
    "grant the `write` privilege on the target indices and aliases (on AWS: the domain access policy or the collection's data access policy)",
    error.type,
  );
}

/**
 * The error to throw when every operation was rejected for one reason shared by the whole batch
 * (every target index missing, no write privilege); undefined otherwise.
 */
export function sharedFailure(
  ops: readonly SinkOperation[],
  outcomes: readonly (SinkOutcome | undefined)[],
  fatal: readonly (ItemVerdict["fatal"] | undefined)[],
  secrets: readonly string[],
): SinkError | undefined {
  if (ops.length === 0) return undefined;
  if (new Set(fatal).size !== 1) return undefined;
  const kind = fatal[0];
  if (!kind || !outcomes.every((o) => o?.status === "rejected")) return undefined;
  const indices = [...new Set(ops.map((op) => op.index))].map((name) => `"${name}"`).join(", ");
  const first = outcomes[0];
  if (kind === "index_not_found") {
    return bulkError(
      secrets,
      `index ${indices} does not exist: ${first?.reason ?? ""}`,
      first?.httpStatus,
      "run `slotsync bootstrap` to create the index and its alias, or correct the index name in the schema",
      "index_not_found_exception",
    );
  }
  return bulkError(
    secrets,
    `the credentials may not write to ${indices}: ${first?.reason ?? ""}`,
    first?.httpStatus,
    "grant the user or API key the `write` privilege (index and delete) on the index and its alias",
    first?.errorType,
  );
}
