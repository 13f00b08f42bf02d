import { SlotsyncError } from "../errors";
import { DRIFT_FIX, describeFinding } from "./format";
import type { DriftFinding } from "./types";

/**
 * The database no longer matches the schema: a table or column the schema uses was dropped or
 * renamed, or its type changed. Not retryable: the same query fails until the schema is updated
 * (and redeployed) and the index re-built. Names the index, table and column of the first finding
 * in `where`, every finding in the message, and the fix.
 */
export class SchemaDriftError extends SlotsyncError {
  readonly findings: readonly DriftFinding[];

  constructor(findings: readonly DriftFinding[], options: { cause?: unknown } = {}) {
    const first = findings[0];
    super(
      `schema drift: ${findings.length === 0 ? "the database no longer matches the schema" : findings.map(describeFinding).join("; ")}`,
      {
        retryable: false,
        fix: first?.fix ?? DRIFT_FIX,
        ...(first
          ? {
              where: `index ${first.index}, table ${first.table}${first.column ? `, column ${first.column}` : ""}`,
            }
          : {}),
        ...(options.cause === undefined ? {} : { cause: options.cause }),
      },
    );
    this.findings = findings;
  }
}
