import type { SqsRecord } from "../../lib/queue";

/**
 * An SQS record of one bootstrap range message over the whole of index `book` (copy `copy-1`,
 * range `r-<id>`), delivered for the first time: for unit tests of the consumer's range copying.
 */
export function rangeRecord(id: string): SqsRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify({
      v: 1,
      kind: "range",
      index: "book",
      range: { from: null, to: null },
      lsn: "100",
      bootstrap_id: "copy-1",
      range_id: `r-${id}`,
      sent_at: "2026-12-04T10:00:00.000Z",
    }),
    attributes: { ApproximateReceiveCount: "1" },
  };
}
