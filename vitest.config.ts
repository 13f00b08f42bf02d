import { defineConfig } from "vitest/config";

// Three projects: `unit` needs no network; `integration` talks to the real local services,
// which `test/setup/global-services.ts` starts (or reuses) before the run and stops after it;
// `slow` uses the same services for the few tests that take minutes by design (a sink slowed to
// 50 ms per document), kept apart so `--project integration` stays quick. `vitest run` (CI) runs all.
export default defineConfig({
  test: {
    silent: "passed-only",
    // Two cores: two test files at once is enough, more only adds contention.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Synthesizing a stack (esbuild bundles) or racing processes can take seconds on a busy
          // machine; no unit test asserts a duration, so a generous limit only catches hangs.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/setup/global-services.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          pool: "forks",
        },
      },
      {
        test: {
          name: "slow",
          include: ["test/slow/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/setup/global-services.ts"],
          testTimeout: 25 * 60_000,
          hookTimeout: 300_000,
          pool: "forks",
        },
      },
    ],
  },
});
