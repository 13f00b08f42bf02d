import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { ColdStart, type InvocationContext, warnConfig } from "../../../lambdas/context";

const invocation = (id: string): InvocationContext => ({
  awsRequestId: id,
  getRemainingTimeInMillis: () => 60_000,
});

describe("ColdStart", () => {
  it("wires once per execution environment and tags each invocation's logs", async () => {
    const logger = new Logger({ logLevel: "SILENT" });
    const keys = vi.spyOn(logger, "appendKeys");
    let wirings = 0;
    const cold = new ColdStart(logger, async () => ({ wiring: ++wirings }));

    expect(await cold.begin(invocation("req-1"))).toEqual({ wiring: 1 });
    expect(await cold.begin(invocation("req-2"))).toEqual({ wiring: 1 });
    expect(wirings).toBe(1);
    expect(keys.mock.calls).toEqual([
      [{ requestId: "req-1", coldStart: true }],
      [{ requestId: "req-2", coldStart: false }],
    ]);
  });

  it("wires again after a failure and after discard", async () => {
    const logger = new Logger({ logLevel: "SILENT" });
    const errors = vi.spyOn(logger, "error");
    let calls = 0;
    const cold = new ColdStart(logger, async () => {
      calls++;
      if (calls === 1) throw new Error("PG_URL is required");
      return calls;
    });

    await expect(cold.begin(invocation("a"))).rejects.toThrow("PG_URL is required");
    expect(errors).toHaveBeenCalledWith(
      "configuration is invalid",
      expect.objectContaining({ errorMessage: "PG_URL is required" }),
    );
    expect(await cold.begin(invocation("b"))).toBe(2);
    cold.discard();
    expect(await cold.begin(invocation("c"))).toBe(3);
  });
});

describe("every handler tags its logs with the request id", () => {
  it("the bootstrap handler, which wires per invocation, tags them before anything can fail", async () => {
    const keys = vi.spyOn(Logger.prototype, "appendKeys");
    onTestFinished(() => {
      keys.mockRestore();
    });
    const { handler } = await import("../../../lambdas/bootstrap");
    // An unknown action fails before any configuration is read: no service is needed.
    await expect(handler({ action: "bogus" as "start" }, invocation("boot-1"))).rejects.toThrow(/bogus/);
    await expect(handler({ action: "bogus" as "start" }, invocation("boot-2"))).rejects.toThrow(/bogus/);
    expect(keys.mock.calls).toEqual([
      [{ requestId: "boot-1", coldStart: true }],
      [{ requestId: "boot-2", coldStart: false }],
    ]);
  });

  it("the others go through ColdStart.begin (poller, consumer, monitor)", async () => {
    const { readFile } = await import("node:fs/promises");
    for (const name of ["poller", "consumer", "monitor"]) {
      const source = await readFile(new URL(`../../../lambdas/${name}.ts`, import.meta.url), "utf8");
      const body = source.slice(source.indexOf("export async function handler"));
      // The handler's first statement wires through ColdStart, which tags the invocation.
      expect(body, name).toMatch(
        /^export async function handler[^{]*\{\s*const \w+ = await coldStart\.begin\(context\);/,
      );
    }
  });
});

describe("warnConfig", () => {
  it("logs each PGSync variable slotsync does not read once per execution environment", () => {
    const logger = new Logger({ logLevel: "SILENT" });
    const warn = vi.spyOn(logger, "warn");
    const config = {
      warnings: [{ key: "PG_URL_RO", message: "is PGSync's and is not read by slotsync: no read replica" }],
    };
    warnConfig(logger, config);
    warnConfig(logger, config);
    expect(warn.mock.calls).toEqual([
      ["PG_URL_RO is PGSync's and is not read by slotsync: no read replica", { variable: "PG_URL_RO" }],
    ]);
  });
});
