import { describe, expect, it } from "vitest";
import { widenXid } from "../../../lib/poller";

describe("widenXid", () => {
  it("puts an xid just below xmax in xmax's epoch", () => {
    const xmax = (3n << 32n) | 1000n;
    expect(widenXid(990, xmax)).toBe((3n << 32n) | 990n);
    expect(widenXid(1000, xmax)).toBe(xmax);
  });

  it("puts an xid from before the wrap-around in the previous epoch", () => {
    const xmax = (3n << 32n) | 5n;
    expect(widenXid(0xfffffff0, xmax)).toBe((2n << 32n) | 0xfffffff0n);
  });

  it("keeps an xid slightly ahead of xmax ahead (not yet visible), not in the previous epoch", () => {
    const xmax = (3n << 32n) | 1000n;
    expect(widenXid(1005, xmax)).toBe((3n << 32n) | 1005n);
    const nearWrap = (3n << 32n) | 0xfffffffen;
    expect(widenXid(3, nearWrap)).toBe((4n << 32n) | 3n);
  });
});
