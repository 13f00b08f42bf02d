import { SlotsyncError, type SlotsyncErrorOptions } from "../errors";
import type { PrerequisiteProblem } from "../prereq";

/** A bootstrap, re-index or reset could not go on. `fix` says what to do; `where` names the index or slot. */
export class BootstrapError extends SlotsyncError {}

/**
 * The database is not ready for logical replication. Lists every problem at once, each with the
 * statement or setting that fixes it, so one round of fixes is enough.
 */
export class PrerequisiteError extends BootstrapError {
  readonly problems: readonly PrerequisiteProblem[];

  constructor(problems: readonly PrerequisiteProblem[], options: SlotsyncErrorOptions = {}) {
    const lines = problems.map((p) => `${p.path}: ${p.message}${p.fix ? ` — fix: ${p.fix}` : ""}`);
    super(`the database is not ready for slotsync (${problems.length} problem(s)):\n${lines.join("\n")}`, {
      fix: "apply the fixes listed above (replica identity: rerun with --fix-replica-identity), then run bootstrap again",
      where: "database",
      ...options,
    });
    this.problems = problems;
  }
}

/** Another bootstrap, completion or reset of the same slot holds the bootstrap lock. */
export class BootstrapBusyError extends BootstrapError {
  constructor(slot: string, holder: string | undefined) {
    super(
      `another bootstrap, completion or reset of slot "${slot}" is running${holder ? ` (${holder})` : ""}`,
      {
        where: `slot ${slot}`,
        retryable: true,
        fix: "wait for it to finish (it holds the lock for a few minutes at most), then run the command again",
      },
    );
  }
}
