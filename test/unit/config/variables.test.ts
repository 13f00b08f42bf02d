import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONFIG_SECTIONS, CONFIG_VARIABLES, renderConfigReference } from "../../../lib/config";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

// The shapes in which the code reads a variable: an EnvReader or sink reader call with the name as
// its first argument, or a property of an environment map (`env.NAME`, `env["NAME"]`).
const READ =
  /\b(?:string|required|url|number|boolean|oneOf|get|num|bool|integer|problem)\(\s*"([A-Z][A-Z0-9_]+)"/g;
const PROPERTY = /\benv(?:\.|\[")([A-Z][A-Z0-9_]{2,})/g;
// Read by the runtime or the tooling, not configuration of slotsync's.
const NOT_CONFIGURATION = new Set([
  "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
  "CDK_DEFAULT_ACCOUNT",
  "CDK_DEFAULT_REGION",
  "VITEST",
]);

function variablesReadByCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of ["lib", "lambdas"]) {
    for (const file of sources(join(ROOT, dir))) {
      // Comments name variables in prose (`${NAME}`, "reads env.X"): only code counts.
      const text = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "");
      for (const pattern of [READ, PROPERTY]) {
        for (const match of text.matchAll(pattern)) {
          const name = match[1] as string;
          if (!NOT_CONFIGURATION.has(name) && !found.has(name)) found.set(name, file.slice(ROOT.length));
        }
      }
    }
  }
  return found;
}

describe("the configuration catalogue", () => {
  it("describes every variable the code reads", () => {
    const documented = new Set(CONFIG_VARIABLES.map((variable) => variable.name));
    const missing = [...variablesReadByCode()]
      .filter(([name]) => !documented.has(name))
      .map(
        ([name, file]) => `${name} (read in ${file}): add it to lib/config/variables.ts, then npm run docs`,
      );
    expect(missing).toEqual([]);
  });

  it("lists each variable once, in a known section, with a description", () => {
    const names = CONFIG_VARIABLES.map((variable) => variable.name);
    expect(new Set(names).size).toBe(names.length);
    for (const variable of CONFIG_VARIABLES) {
      expect(CONFIG_SECTIONS).toContain(variable.section);
      expect(variable.description.length).toBeGreaterThan(5);
    }
  });

  it("renders one row per variable, and marks the secrets", () => {
    const page = renderConfigReference();
    for (const variable of CONFIG_VARIABLES) {
      const row = page.split("\n").find((line) => line.startsWith(`| \`${variable.name}\` |`));
      expect(row, variable.name).toBeDefined();
      expect(row?.includes("(**secret**)"), variable.name).toBe(variable.secret === true);
    }
  });
});
