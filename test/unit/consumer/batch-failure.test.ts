import { describe, expect, it } from "vitest";
import { type ConsumerDeps, processBatch } from "../../../lib/consumer";
import type { DocumentBuilder } from "../../../lib/document";
import type { DeadLetter, SqsRecord } from "../../../lib/queue";
import type { SearchSink } from "../../../lib/sink";

const record = (id: string, body: string): SqsRecord => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body,
  attributes: { ApproximateReceiveCount: "1" },
});
const message = (fields: Record<string, unknown>) =>
  JSON.stringify({ v: 1, lsn: "100", sent_at: "2026-11-21T10:00:00.000Z", ...fields });

describe("processBatch when building documents fails", () => {
  it("lets every record of the batch come again: keys, truncates and records bound for the DLQ", async () => {
    const letters: DeadLetter[] = [];
    let scanned = false;
    const deps: ConsumerDeps = {
      connect: async () => ({
        client: { query: async () => ({ rows: [] }) } as never,
        release: () => undefined,
      }),
      builders: new Map([
        [
          "book",
          {
            buildKeys: async () => {
              throw new Error("connection reset");
            },
          } as unknown as DocumentBuilder,
        ],
      ]),
      sink: {
        scan: () => {
          scanned = true;
          return (async function* () {})();
        },
      } as unknown as SearchSink,
      deadLetter: async (l) => void letters.push(...l),
    };
    const event = {
      Records: [
        record("keys", message({ kind: "keys", index: "book", keys: [["1"]] })),
        record("truncate", message({ kind: "truncate", index: "book" })),
        record("unknown-index", message({ kind: "keys", index: "nope", keys: [["1"]] })),
        record("bad", "not json"),
      ],
    };
    const result = await processBatch(event, deps);
    expect(result.response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      "bad",
      "keys",
      "truncate",
      "unknown-index",
    ]);
    expect((result.error as Error).message).toBe("connection reset");
    // Nothing was written or dead-lettered: the next delivery does it all.
    expect(scanned).toBe(false);
    expect(letters).toEqual([]);
  });
});
