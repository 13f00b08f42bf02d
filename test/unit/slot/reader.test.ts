import type pg from "pg";
import { describe, expect, it } from "vitest";
import {
  PgSlotReader,
  SlotError,
  SlotLostError,
  SlotMissingError,
  SlotPluginError,
  translatePgError,
} from "../../../lib/slot";

/** A client answering the slot query with one fixed row (the lowest layer: pg itself). */
function clientWith(row: Record<string, unknown> | undefined): pg.ClientBase {
  return { query: async () => ({ rows: row ? [row] : [] }) } as unknown as pg.ClientBase;
}

const healthy = {
  slot_name: "s",
  plugin: "wal2json",
  database: "app",
  active: false,
  wal_status: "reserved",
  restart_lsn: "0/10",
  confirmed_flush_lsn: "0/20",
  retained_bytes: "4096",
  safe_wal_size: null,
};

describe("PgSlotReader.check", () => {
  it("reads the slot's positions as 64-bit integers", async () => {
    const info = await new PgSlotReader(clientWith(healthy), "s").check();
    expect(info.confirmedFlushLsn).toBe(0x20n);
    expect(info.retainedBytes).toBe(4096n);
    expect(info.safeWalSize).toBeNull();
  });

  it("says how to recover a lost slot", async () => {
    const err = await new PgSlotReader(clientWith({ ...healthy, wal_status: "lost" }), "s")
      .check()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlotLostError);
    expect((err as SlotLostError).fix).toMatch(/slotsync reset.*slotsync bootstrap/);
    expect((err as SlotLostError).retryable).toBe(false);
  });

  it("says to bootstrap when the slot is missing, and refuses another plugin's slot", async () => {
    await expect(new PgSlotReader(clientWith(undefined), "s").check()).rejects.toBeInstanceOf(
      SlotMissingError,
    );
    await expect(
      new PgSlotReader(clientWith({ ...healthy, plugin: "pgoutput" }), "s").check(),
    ).rejects.toBeInstanceOf(SlotPluginError);
  });
});

describe("translatePgError", () => {
  it("turns the server's slot errors into errors that say what to do", () => {
    const missing = translatePgError({ code: "42704", message: 'replication slot "s" does not exist' }, "s");
    expect(missing).toBeInstanceOf(SlotMissingError);
    const lost = translatePgError(
      { code: "55000", message: 'can no longer get changes from replication slot "s"' },
      "s",
    );
    expect(lost).toBeInstanceOf(SlotLostError);
    const busy = translatePgError(
      { code: "55006", message: 'replication slot "s" is active for PID 42' },
      "s",
    );
    expect(busy).toBeInstanceOf(SlotError);
    expect((busy as SlotError).retryable).toBe(true);
    const denied = translatePgError({ code: "42501", message: "permission denied" }, "s") as SlotError;
    expect(denied.fix).toMatch(/REPLICATION/);
    const other = new Error("connection reset");
    expect(translatePgError(other, "s")).toBe(other);
  });
});
