import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface LockFile {
  packages: Record<string, { optional?: boolean; os?: string[]; cpu?: string[] }>;
}

const lock = JSON.parse(
  readFileSync(new URL("../../../package-lock.json", import.meta.url), "utf8"),
) as LockFile;

describe("package-lock.json", () => {
  // npm can write a lock file holding only the current platform's optional binaries; `npm ci`
  // then refuses it everywhere else. Re-create it with `npm install --package-lock-only`.
  it.each(["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"])(
    "lists the native packages %s needs, so npm ci works there",
    (platform) => {
      const [os, cpu] = platform.split("-") as [string, string];
      const natives = Object.entries(lock.packages).filter(
        ([, entry]) => entry.optional && entry.os?.includes(os) && entry.cpu?.includes(cpu),
      );
      const names = natives.map(([path]) => path);
      expect(names.some((name) => name.startsWith("node_modules/@biomejs/cli-"))).toBe(true);
      expect(names.some((name) => name.startsWith("node_modules/@esbuild/"))).toBe(true);
      expect(names.some((name) => name.startsWith("node_modules/@rollup/rollup-"))).toBe(true);
    },
  );
});
