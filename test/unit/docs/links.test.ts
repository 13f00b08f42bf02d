import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith(".md") ? [path] : [];
    });
  const top = readdirSync(ROOT)
    .filter((entry) => entry.endsWith(".md"))
    .map((entry) => join(ROOT, entry));
  return [...top, ...walk(join(ROOT, "docs"))];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const result = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const slug = (heading[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-");
    let unique = slug;
    for (let n = 1; result.has(unique); n++) unique = `${slug}-${n}`;
    result.add(unique);
  }
  return result;
}

function links(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
}

describe("documentation links", () => {
  const files = markdownFiles();

  it("finds the README and the docs tree", () => {
    expect(files.map((file) => relative(ROOT, file))).toEqual(
      expect.arrayContaining(["README.md", "CONTRIBUTING.md", "docs/reference/cli.md"]),
    );
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))(
    "every relative link in %s resolves",
    (_, file) => {
      const text = readFileSync(file, "utf8");
      const broken: string[] = [];
      for (const link of links(text)) {
        if (/^[a-z]+:/i.test(link)) continue;
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) {
          broken.push(`${link}: no such file`);
          continue;
        }
        if (anchor && target.endsWith(".md") && !anchors(readFileSync(target, "utf8")).has(anchor)) {
          broken.push(`${link}: no heading with anchor #${anchor}`);
        }
      }
      expect(broken).toEqual([]);
    },
  );
});
