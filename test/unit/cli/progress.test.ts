import { describe, expect, it } from "vitest";
import { ProgressBar } from "../../../lib/cli/progress";

function terminal(isTTY: boolean) {
  return {
    isTTY,
    writes: [] as string[],
    write(text: string) {
      this.writes.push(text);
      return true;
    },
  };
}

describe("ProgressBar", () => {
  it("draws a bar with percentage, counts, rate and ETA on a terminal", () => {
    let t = 0;
    const out = terminal(true);
    const bar = new ProgressBar({ out, label: "copying", total: 200, unit: "docs", width: 10, now: () => t });
    t = 10_000;
    bar.update(50);
    expect(out.writes.at(-1)).toBe("\r\u001b[2Kcopying  [###-------]  25%  50/200 docs  5.0/s  ETA 30 s");
  });

  it("redraws at most once per interval, and always on finish", () => {
    let t = 0;
    const out = terminal(true);
    const bar = new ProgressBar({ out, label: "x", total: 10, intervalMs: 100, now: () => t });
    bar.tick();
    bar.tick();
    expect(out.writes).toHaveLength(1);
    t = 150;
    bar.tick();
    expect(out.writes).toHaveLength(2);
    bar.update(10);
    bar.finish("done");
    expect(out.writes.at(-2)?.startsWith("\r\u001b[2Kdone  [")).toBe(true);
    expect(out.writes.at(-2)).toMatch(/\] {2}100% {2}10\/10 .* in 0 s$/);
    expect(out.writes.at(-1)).toBe("\n");
    bar.tick();
    expect(out.writes.at(-1)).toBe("\n");
  });

  it("without a total shows the count and rate", () => {
    const out = terminal(true);
    const bar = new ProgressBar({ out, label: "rows", now: () => 2000 });
    expect(bar.render()).toBe("rows  0  0.0/s");
  });

  it("stays silent when the output is not a terminal", () => {
    const out = terminal(false);
    const bar = new ProgressBar({ out, label: "x", total: 3 });
    bar.tick(3);
    bar.finish();
    expect(out.writes).toEqual([]);
  });
});
