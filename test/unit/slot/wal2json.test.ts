import { describe, expect, it } from "vitest";
import { addTablesOption, formatLsn, parseLsn, parseWal2jsonRow } from "../../../lib/slot";

describe("LSN", () => {
  it("parses and formats the X/Y text form as a 64-bit integer", () => {
    expect(parseLsn("0/194CC48")).toBe(0x194cc48n);
    expect(parseLsn("16/B374D848")).toBe((0x16n << 32n) | 0xb374d848n);
    expect(formatLsn((0x16n << 32n) | 0xb374d848n)).toBe("16/B374D848");
    expect(formatLsn(parseLsn("FFFFFFFF/FFFFFFFF"))).toBe("FFFFFFFF/FFFFFFFF");
  });

  it("orders like WAL positions across the 32-bit boundary", () => {
    expect(parseLsn("1/0") > parseLsn("0/FFFFFFFF")).toBe(true);
  });

  it("rejects anything else", () => {
    expect(() => parseLsn("0/")).toThrow(/not an LSN/);
    expect(() => parseLsn("123")).toThrow(/not an LSN/);
    expect(() => formatLsn(-1n)).toThrow(/out of range/);
  });
});

describe("parseWal2jsonRow", () => {
  it("reads begin and commit frames with the commit record's start and end", () => {
    const row =
      '{"action":"C","xid":742,"timestamp":"2026-11-21 10:48:26+00","lsn":"0/194CC18","nextlsn":"0/194CC48"}';
    expect(parseWal2jsonRow(row)).toEqual({
      action: "C",
      xid: 742,
      commitLsn: 0x194cc18n,
      endLsn: 0x194cc48n,
      timestamp: "2026-11-21 10:48:26+00",
    });
  });

  it("keeps the exact text of numbers larger than 2^53 and of decimals", () => {
    const row =
      '{"action":"U","xid":7,"lsn":"0/10","schema":"public","table":"t","columns":[{"name":"id","value":9007199254740993},{"name":"v","value":1.50},{"name":"n","value":-2.5e-7},{"name":"s","value":"\\"value\\":1"}],"identity":[{"name":"id","value":9007199254740993}]}';
    const event = parseWal2jsonRow(row);
    expect(event.action).toBe("U");
    if (event.action !== "U") return;
    expect(event.columns.map((c) => c.value)).toEqual(["9007199254740993", "1.50", "-2.5e-7", '"value":1']);
    expect(event.identity[0]?.value).toBe("9007199254740993");
    expect(event.lsn).toBe(0x10n);
  });

  it("keeps booleans, nulls and bare NaN", () => {
    const row =
      '{"action":"I","xid":1,"lsn":"0/1","schema":"s","table":"t","columns":[{"name":"b","value":true},{"name":"z","value":null},{"name":"f","value":NaN}]}';
    const event = parseWal2jsonRow(row);
    if (event.action !== "I") throw new Error("expected an insert");
    expect(event.columns.map((c) => c.value)).toEqual([true, null, "NaN"]);
    expect(event.identity).toEqual([]);
  });

  it("reads truncates and fails loudly on an unknown action", () => {
    expect(parseWal2jsonRow('{"action":"T","xid":3,"lsn":"0/5","schema":"public","table":"book"}')).toEqual({
      action: "T",
      xid: 3,
      schema: "public",
      table: "book",
      lsn: 5n,
    });
    expect(() => parseWal2jsonRow('{"action":"Z"}')).toThrow(/unknown wal2json action "Z"/);
  });
});

describe("addTablesOption", () => {
  it("escapes the characters wal2json treats specially", () => {
    expect(
      addTablesOption([
        { schema: "public", table: "book" },
        { schema: "my schema", table: "we.ird,na*me's" },
      ]),
    ).toBe("public.book,my\\ schema.we\\.ird\\,na\\*me\\'s");
  });
});
