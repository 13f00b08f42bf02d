import type pg from "pg";
import { describe, expect, it } from "vitest";
import { lender } from "../../../lib/database";

describe("lender", () => {
  it("lends one pool connection per call and gives it back, with the error that ended its use", async () => {
    const released: (Error | undefined)[] = [];
    let lent = 0;
    const pool = {
      connect: async () => {
        lent++;
        return { release: (error?: Error) => released.push(error) } as unknown as pg.PoolClient;
      },
    };
    const connect = lender(pool as unknown as pg.Pool);
    const first = await connect();
    const second = await connect();
    expect(lent).toBe(2);
    expect(first.client).not.toBe(second.client);
    const broken = new Error("connection reset");
    first.release(broken);
    second.release();
    expect(released).toEqual([broken, undefined]);
  });

  it("passes on a failure to connect", async () => {
    const refused = new Error("too many clients");
    const connect = lender({
      connect: async () => {
        throw refused;
      },
    } as unknown as pg.Pool);
    await expect(connect()).rejects.toBe(refused);
  });
});
