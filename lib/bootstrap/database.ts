import { applyReplicaIdentityFixes, checkPrerequisites, type PrerequisiteProblem } from "../prereq";
import { PrerequisiteError } from "./errors";
import type { BootstrapDeps, BootstrapOptions } from "./types";

/**
 * Checks the database before anything is created: every problem at once, each with its fix.
 * With `fixReplicaIdentity`, the `ALTER TABLE … REPLICA IDENTITY FULL` statements the schema needs
 * are run first (a failure to run one — not the table's owner — stays in the list).
 * @throws PrerequisiteError when anything remains.
 */
export async function checkDatabase(
  deps: Pick<BootstrapDeps, "db" | "schema" | "slot" | "prerequisites">,
  options: Pick<BootstrapOptions, "fixReplicaIdentity" | "onEvent">,
): Promise<void> {
  const check = deps.prerequisites ?? checkPrerequisites;
  let problems: readonly PrerequisiteProblem[] = await check(deps.db, {
    schema: deps.schema,
    slot: deps.slot,
  });
  if (options.fixReplicaIdentity && problems.some((p) => p.code === "replica_identity")) {
    const result = await applyReplicaIdentityFixes(deps.db, problems);
    if (result.fixed.length > 0) {
      options.onEvent?.({
        step: "replica-identity-fixed",
        statements: result.fixed.map((p) => p.fix ?? ""),
      });
    }
    // The schema's needs were computed before the fix; drop what was just fixed.
    const fixed = new Set(result.fixed.map((p) => p.fix));
    problems = [...problems.filter((p) => p.code !== "replica_identity" || !fixed.has(p.fix))].map(
      (p) => result.failed.find((f) => f.fix === p.fix && f.code === p.code) ?? p,
    );
  }
  if (problems.length > 0) throw new PrerequisiteError(problems);
}
