import { describe, expect, it } from "vitest";
import { buildDocuments } from "../../../lib/consumer/build";
import { FIRST_CHUNK_ROWS } from "../../../lib/consumer/chunk-size";
import type { ConsumerDeps, ConsumerOptions, IndexWork } from "../../../lib/consumer/types";
import type { DocumentBuilder, DocumentResult, KeysResult } from "../../../lib/document";
import type { RootKey } from "../../../lib/document/keys";

/** `count` keys "1".."count", asked for by one record. */
function keysWork(count: number): Map<string, IndexWork> {
  const keys: IndexWork["keys"] = new Map();
  for (let i = 1; i <= count; i++) {
    keys.set(JSON.stringify([String(i)]), { key: [String(i)], version: 100n, records: new Set(["r1"]) });
  }
  return new Map([["book", { keys, ranges: [], truncates: [], repairs: [] }]]);
}

/**
 * A builder whose rows are `width(key)` characters of document text wide (0: no root row, a
 * deletion), recording how many keys each query asked for.
 */
function fakeDeps(width: (key: number) => number): { deps: ConsumerDeps; asked: number[] } {
  const asked: number[] = [];
  const builder = {
    buildKeys: async (_client: unknown, keys: readonly RootKey[]): Promise<KeysResult> => {
      asked.push(keys.length);
      const result: KeysResult = { documents: [], textLength: 0, textRows: 0 };
      for (const key of keys) {
        const id = String(Array.isArray(key) ? key[0] : key);
        const w = width(Number(id));
        const doc: DocumentResult =
          w === 0
            ? { action: "delete", _index: "book", _id: id, key: [id], reason: "missing" }
            : { action: "index", _index: "book", _id: id, key: [id], _source: { id } };
        result.documents.push(doc);
        if (w > 0) {
          result.textLength += w;
          result.textRows++;
        }
      }
      return result;
    },
  } as unknown as DocumentBuilder;
  const deps = {
    connect: async () => ({
      client: { query: async () => ({ rows: [] }) } as never,
      release: () => undefined,
    }),
    builders: new Map([["book", builder]]),
    sink: {} as never,
    deadLetter: async () => undefined,
  } as ConsumerDeps;
  return { deps, asked };
}

const options = (o: Partial<ConsumerOptions>): ConsumerOptions => ({
  keysPerQuery: 1000,
  rangePageSize: 2500,
  ...o,
});

describe("buildDocuments, document queries sized by text", () => {
  it("asks for a small first query, then fits the rest to the text bound", async () => {
    const { deps, asked } = fakeDeps(() => 1000);
    const out = await buildDocuments(keysWork(700), deps, options({ chunkText: 100_000 }));
    expect(out.documents).toHaveLength(700);
    // 250 keys before any width is known, then 100,000 characters / 1,000 a row.
    expect(asked).toEqual([FIRST_CHUNK_ROWS, 100, 100, 100, 100, 50]);
  });

  it("lets narrow documents fill whole queries of keysPerQuery keys", async () => {
    const { deps, asked } = fakeDeps(() => 10);
    const out = await buildDocuments(keysWork(2600), deps, options({}));
    expect(out.documents).toHaveLength(2600);
    expect(asked).toEqual([250, 1000, 1000, 350]);
  });

  it("does not take keys without a root row for narrow documents", async () => {
    // The first 250 keys are deletions (no text): the width is still unknown after them.
    const { deps, asked } = fakeDeps((k) => (k <= 250 ? 0 : 2000));
    const out = await buildDocuments(keysWork(700), deps, options({ chunkText: 100_000 }));
    expect(out.documents.filter((d) => d.result.action === "delete")).toHaveLength(250);
    expect(asked).toEqual([250, 250, 50, 50, 50, 50]);
  });
});
