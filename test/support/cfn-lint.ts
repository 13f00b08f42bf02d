import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDirectory } from "../../tools/services/manager";
import { run } from "../../tools/services/process";

/** The cfn-lint release the templates are checked with (PyPI), pinned so results do not drift. */
export const CFN_LINT_VERSION = "1.51.0";

/**
 * The `cfn-lint` program of a virtual environment in the services' cache directory, created and
 * filled from PyPI on first use (needs Python 3 with the venv module). A marker file written last
 * tells a complete environment from one a killed run left half-built.
 */
export async function ensureCfnLint(): Promise<string> {
  const venv = join(cacheDirectory(), `cfn-lint-${CFN_LINT_VERSION}`);
  const bin = join(venv, "bin", "cfn-lint");
  const complete = join(venv, ".complete");
  if (existsSync(complete)) return bin;
  rmSync(venv, { recursive: true, force: true });
  try {
    await run("python3", ["-m", "venv", venv]);
    await run(join(venv, "bin", "pip"), [
      "install",
      "-q",
      "--disable-pip-version-check",
      `cfn-lint==${CFN_LINT_VERSION}`,
    ]);
  } catch (cause) {
    rmSync(venv, { recursive: true, force: true });
    throw new Error(
      `could not install cfn-lint ${CFN_LINT_VERSION} from PyPI into ${venv}: check Python 3 (with venv) and access to PyPI`,
      { cause },
    );
  }
  writeFileSync(complete, `${CFN_LINT_VERSION}\n`);
  return bin;
}
