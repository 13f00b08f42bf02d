import { describe, expect, it } from "vitest";
import { Overlap } from "../../../lib/consumer/overlap";

/** A promise resolved or rejected from outside, to hold a consumer step until the test lets it go. */
function gate(): { promise: Promise<void>; open(): void; fail(error: unknown): void } {
  let open!: () => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Overlap", () => {
  it("consumes chunks one at a time, in the order they were pushed", async () => {
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    const overlap = new Overlap<number>(async (n) => {
      running++;
      most = Math.max(most, running);
      await settle();
      seen.push(n);
      running--;
    }, 3);
    for (let i = 0; i < 10; i++) await overlap.push(i);
    await overlap.drain();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(1);
  });

  it("lets the producer build the next chunk while one is consumed, and no more ahead than lookAhead", async () => {
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const overlap = new Overlap<number>(async (n) => {
      started.push(n);
      await gates[n]?.promise;
    }, 1);
    // Chunk 0 goes to the consumer at once: the producer may build chunk 1 meanwhile.
    await overlap.push(0);
    expect(started).toEqual([0]);
    // Chunk 1 is built while 0 is in flight: pushing it waits until 0 is done.
    let pushed1 = false;
    const push1 = overlap.push(1).then(() => {
      pushed1 = true;
    });
    await settle();
    expect(pushed1).toBe(false);
    expect(started).toEqual([0]);
    gates[0]?.open();
    await push1;
    expect(started).toEqual([0, 1]);
    gates[1]?.open();
    gates[2]?.open();
    await overlap.push(2);
    await overlap.drain();
    expect(started).toEqual([0, 1, 2]);
  });

  it("with lookAhead 0, returns from push only once the chunk was consumed", async () => {
    const g = gate();
    const done: number[] = [];
    const overlap = new Overlap<number>(async (n) => {
      await g.promise;
      done.push(n);
    }, 0);
    let pushed = false;
    const push = overlap.push(7).then(() => {
      pushed = true;
    });
    await settle();
    expect(pushed).toBe(false);
    g.open();
    await push;
    expect(done).toEqual([7]);
  });

  it("stops on the consumer's first error: waiting chunks are dropped, push and drain reject with it", async () => {
    const boom = new Error("bulk refused");
    const g = gate();
    const consumed: number[] = [];
    const overlap = new Overlap<number>(async (n) => {
      consumed.push(n);
      if (n === 0) await g.promise;
    }, 2);
    await overlap.push(0);
    await overlap.push(1); // waits behind 0
    const push2 = overlap.push(2); // must wait: two chunks pending
    g.fail(boom);
    await expect(push2).rejects.toBe(boom);
    await expect(overlap.push(3)).rejects.toBe(boom);
    await expect(overlap.drain()).rejects.toBe(boom);
    expect(consumed).toEqual([0]);
    expect(await overlap.stop()).toBe(boom);
  });

  it("stop() drops waiting chunks, waits for the one in flight, and takes no more", async () => {
    const g = gate();
    const consumed: number[] = [];
    let finished = false;
    const overlap = new Overlap<number>(async (n) => {
      consumed.push(n);
      await g.promise;
      finished = true;
    }, 2);
    await overlap.push(0);
    await overlap.push(1);
    const stopped = overlap.stop();
    await settle();
    expect(finished).toBe(false);
    g.open();
    expect(await stopped).toBeUndefined();
    expect(finished).toBe(true);
    expect(consumed).toEqual([0]);
    await expect(overlap.push(2)).rejects.toThrow(/stopped/);
  });

  it("refuses a look-ahead that is not a whole number of at least 0", () => {
    expect(() => new Overlap<number>(async () => undefined, -1)).toThrow(RangeError);
    expect(() => new Overlap<number>(async () => undefined, 1.5)).toThrow(/whole number/);
  });
});
