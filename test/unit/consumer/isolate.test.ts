import { describe, expect, it } from "vitest";
import { bisect, isPoisonError, retryTransient } from "../../../lib/consumer";
import { DocumentError, PluginError } from "../../../lib/document";
import { SlotsyncError } from "../../../lib/errors";

const pgError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe("isPoisonError", () => {
  it("blames the data for errors a retry repeats, not for those it may fix", () => {
    expect(isPoisonError(new PluginError("plugin threw"))).toBe(true);
    expect(isPoisonError(new DocumentError("not a JSON object"))).toBe(true);
    expect(isPoisonError(new DocumentError("connection lost", { retryable: true }))).toBe(false);
    expect(isPoisonError(pgError("57014"))).toBe(true); // statement timeout
    expect(isPoisonError(pgError("22P02"))).toBe(true); // invalid input
    for (const code of ["08006", "40001", "53300", "57P01"]) expect(isPoisonError(pgError(code))).toBe(false);
    expect(isPoisonError(new Error("socket hang up"))).toBe(false);
    expect(isPoisonError(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(false);
  });
});

describe("bisect", () => {
  const bad = new Set([13, 77]);
  const build = async (items: readonly number[]) => {
    const hit = items.find((i) => bad.has(i));
    if (hit !== undefined) throw new PluginError(`item ${hit} is bad`);
    return items.map((i) => i * 10);
  };

  it("narrows failures down to the items that cause them and builds every other one", async () => {
    const calls: number[] = [];
    const items = Array.from({ length: 200 }, (_, i) => i + 1);
    const { results, poisoned } = await bisect(
      items,
      (part) => {
        calls.push(part.length);
        return build(part);
      },
      async () => undefined,
    );
    expect(results.sort((a, b) => a - b)).toEqual(items.filter((i) => !bad.has(i)).map((i) => i * 10));
    expect(poisoned.map((p) => p.item)).toEqual([13, 77]);
    expect(String(poisoned[0]?.error)).toBe("PluginError: item 13 is bad");
    // A few dozen tries, not one per item.
    expect(calls.length).toBeLessThan(40);
  });

  it("starts no try past the deadline: what is not settled yet comes back unsettled, not poison", async () => {
    let clock = 0;
    const items = Array.from({ length: 64 }, (_, i) => i + 1);
    const { results, poisoned, unsettled } = await bisect(
      items,
      (part) => {
        clock += 10; // each try takes 10 ms
        return build(part);
      },
      async () => undefined,
      { deadline: 35, now: () => clock },
    );
    // Tries at 0, 10, 20 and 30 ms; the rest is left for a later delivery.
    expect(results.length + poisoned.length + unsettled.length).toBe(items.length);
    expect(poisoned.map((p) => p.item)).toEqual([]);
    expect(unsettled).toContain(13);
    expect(results.length).toBeGreaterThan(0);
    // Without a deadline the same batch settles every item.
    const all = await bisect(items, build, async () => undefined);
    expect(all.unsettled).toEqual([]);
    expect(all.poisoned.map((p) => p.item)).toEqual([13]);
  });

  it("throws at once what is not poison, and what `stop` says to stop for", async () => {
    const transient = new DocumentError("connection lost", { retryable: true });
    await expect(
      bisect(
        [1, 2],
        async () => Promise.reject(transient),
        async () => undefined,
      ),
    ).rejects.toBe(transient);
    const drift = new Error("schema drift");
    await expect(bisect([1, 13], build, async () => drift)).rejects.toBe(drift);
  });
});

describe("retryTransient", () => {
  it("rides out retryable failures with a growing pause, and gives up after the attempts", async () => {
    const pauses: number[] = [];
    let calls = 0;
    const value = await retryTransient(
      async () => {
        calls++;
        if (calls < 3) throw new SlotsyncError("store unreachable", { retryable: true });
        return "ok";
      },
      { sleep: async (ms) => void pauses.push(ms), baseMs: 100 },
    );
    expect(value).toBe("ok");
    expect(pauses).toEqual([100, 200]);

    let tries = 0;
    const down = new SlotsyncError("store down", { retryable: true });
    await expect(
      retryTransient(
        async () => {
          tries++;
          throw down;
        },
        { attempts: 3, sleep: async () => undefined },
      ),
    ).rejects.toBe(down);
    expect(tries).toBe(3);
  });

  it("does not retry an error a retry cannot fix", async () => {
    let tries = 0;
    const refused = new SlotsyncError("token refused");
    await expect(
      retryTransient(
        async () => {
          tries++;
          throw refused;
        },
        { sleep: async () => undefined },
      ),
    ).rejects.toBe(refused);
    expect(tries).toBe(1);
  });
});
