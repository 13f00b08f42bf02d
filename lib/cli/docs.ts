import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderConfigReference } from "../config";
import { COMMANDS } from "./main";
import { renderCliReference } from "./reference";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The reference pages generated from code, with the absolute path each belongs at. */
export function generatedReferences(): { path: string; text: string }[] {
  return [
    { path: join(ROOT, "docs/reference/cli.md"), text: renderCliReference(COMMANDS) },
    { path: join(ROOT, "docs/reference/configuration.md"), text: renderConfigReference() },
  ];
}
