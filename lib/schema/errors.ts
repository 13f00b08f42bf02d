import { SlotsyncError, type SlotsyncErrorOptions } from "../errors";

/**
 * One thing wrong with a schema, found while parsing it or while checking it against the database.
 *
 * `path` is a JSON path into the schema file, e.g. `[0].nodes.children[1].relationship.type`
 * (an empty string means the document as a whole); `message` says what is wrong and what to do.
 */
export interface SchemaProblem {
  path: string;
  message: string;
}

/** Formats problems one per line, `<path>: <message>`, the way `slotsync validate` prints them. */
export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("\n");
}

/**
 * The schema is invalid. Carries every problem found, not only the first, so an operator can fix
 * them all in one round.
 */
export class SchemaError extends SlotsyncError {
  readonly problems: readonly SchemaProblem[];

  constructor(problems: readonly SchemaProblem[], options: SlotsyncErrorOptions = {}) {
    const count = problems.length;
    super(`the schema has ${count} problem${count === 1 ? "" : "s"}:\n${formatProblems(problems)}`, {
      fix: "correct the schema at the paths listed and run `slotsync validate` again",
      ...options,
    });
    this.problems = problems;
  }
}

/**
 * The schema could not be read at all (missing file, HTTP error, S3 error). Retryable when the
 * failure looks transient (network, 5xx).
 */
export class SchemaLoadError extends SlotsyncError {}
