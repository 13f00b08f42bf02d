import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedReferences } from "../../../lib/cli/docs";
import { COMMANDS } from "../../../lib/cli/main";

describe("the generated references", () => {
  it.each(generatedReferences().map((page) => [page.path.replace(/.*\/docs\//, "docs/"), page.text]))(
    "%s is current (run npm run docs when this fails)",
    (path, text) => {
      expect(readFileSync(`${process.cwd()}/${path}`, "utf8")).toBe(text);
    },
  );

  it("the CLI reference has a section and the flags of every command", () => {
    const page = generatedReferences().find((p) => p.path.endsWith("cli.md"))?.text ?? "";
    for (const command of COMMANDS) {
      expect(page).toContain(`\n## ${command.name}\n`);
      for (const flag of Object.keys(command.flags))
        expect(page, `${command.name} --${flag}`).toContain(`--${flag}`);
    }
  });
});
