/**
 * Writes the generated references from the code's own definitions:
 *
 *   npx tsx scripts/docs.ts           write docs/reference/cli.md and configuration.md
 *   npx tsx scripts/docs.ts --check   exit 1 when either is stale (what the unit test checks too)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { generatedReferences } from "../lib/cli";

const check = process.argv.includes("--check");
let stale = 0;
for (const { path, text } of generatedReferences()) {
  let current = "";
  try {
    current = readFileSync(path, "utf8");
  } catch {}
  if (current === text) continue;
  if (check) {
    console.error(`${path} is stale: run npm run docs`);
    stale++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
