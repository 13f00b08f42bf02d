import { describe, expect, it } from "vitest";
import { DEFAULT_CHAOS, runChaos } from "../chaos/run";

// The short chaos run CI does every time (`npm run chaos` runs longer ones): load from many
// connections while poller and consumer processes are SIGKILLed, the queue redelivers, the search
// engine answers 429/503, Upstash drops out, and partitions are created, detached, attached,
// dropped and truncated and columns added and dropped. Afterwards the index must equal the database.
describe("chaos", () => {
  it(
    "index equals database after load, kills and faults",
    async () => {
      const report = await runChaos({
        ...DEFAULT_CHAOS,
        durationSeconds: Number(process.env.CHAOS_SECONDS ?? 75),
        seed: Number(process.env.CHAOS_SEED ?? Date.now() % 100_000),
      });
      const summary = { ...report, differences: report.differences.slice(0, 20) };
      // The counts show the run really exercised what it claims; the differences must be none.
      expect(report.load.committed, JSON.stringify(summary)).toBeGreaterThan(500);
      expect(report.kills.poller + report.kills.consumer).toBeGreaterThan(3);
      expect(report.injected.searchFaults).toBeGreaterThan(0);
      // Partition lifecycle, truncates and DDL took effect under the load.
      expect(Object.values(report.operations.done).reduce((n, c) => n + c, 0)).toBeGreaterThan(3);
      expect(report.compared).toBeGreaterThan(1000);
      expect(report.differences, JSON.stringify(summary)).toEqual([]);
      expect(report.differentCount).toBe(0);
    },
    15 * 60_000,
  );
});
