import { describe, expect, it } from "vitest";
import { createLogger, formatBytes, formatDuration, formatTable } from "../../../lib/cli/output";

function sink(isTTY: boolean) {
  const out = {
    isTTY,
    text: "",
    write(text: string) {
      this.text += text;
      return true;
    },
  };
  return out;
}

describe("createLogger", () => {
  const now = () => Date.parse("2026-01-02T03:04:05.678Z");

  it("writes JSON lines when not on a terminal, bigints as strings", () => {
    const out = sink(false);
    createLogger({ out, now }).info("cycle", "cycle: 1 keys", { keys: 1, lag: 5n });
    expect(JSON.parse(out.text)).toEqual({
      time: "2026-01-02T03:04:05.678Z",
      level: "info",
      event: "cycle",
      msg: "cycle: 1 keys",
      keys: 1,
      lag: "5",
    });
    expect(out.text.endsWith("\n")).toBe(true);
  });

  it("writes `HH:MM:SS text` on a terminal, with the level for warnings and errors", () => {
    const out = sink(true);
    const log = createLogger({ out, now });
    log.info("a", "hello");
    log.error("b", "broken");
    expect(out.text).toBe("03:04:05 hello\n03:04:05 error: broken\n");
  });

  it("--quiet keeps warnings and errors only", () => {
    const out = sink(false);
    const log = createLogger({ out, quiet: true, now });
    log.info("a", "hidden");
    log.warn("b", "shown");
    expect(out.text).toContain('"event":"b"');
    expect(out.text).not.toContain("hidden");
  });
});

describe("formatting", () => {
  it("formats bytes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5n * 1024n ** 3n)).toBe("5.0 GiB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MiB");
    expect(formatBytes(null)).toBe("unknown");
  });

  it("formats durations", () => {
    expect(formatDuration(4_400)).toBe("4 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3 * 3_600_000 + 60_000)).toBe("3 h 1 min");
  });

  it("aligns table columns", () => {
    expect(
      formatTable([
        ["a", "1"],
        ["long label", "2"],
      ]),
    ).toBe("a           1\nlong label  2");
  });
});
