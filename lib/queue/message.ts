/**
 * Queue message format, version 1.
 *
 * Every SQS message body slotsync sends is one JSON object whose first field is `"v": 1`. Field
 * names on the wire are snake_case; in memory they are camelCase and the LSN is a `bigint`.
 *
 * ```json
 * {"v":1,"kind":"keys","index":"book","keys":[["978-0"],["978-1"]],"lsn":"23876543212","xid":7412,"sent_at":"2026-11-21T10:00:00.000Z"}
 * {"v":1,"kind":"range","index":"book","range":{"from":["978-0"],"to":["978-5"]},"lsn":"23876543000","bootstrap_id":"b-20261121","range_id":"r00017","sent_at":"2026-11-21T10:00:00.000Z"}
 * {"v":1,"kind":"truncate","index":"book","lsn":"23876543999","xid":7415,"sent_at":"2026-11-21T10:00:00.000Z"}
 * {"v":1,"kind":"rebuild","index":"book","lsn":"23876544100","xid":7420,"sent_at":"2026-11-21T10:00:00.000Z"}
 * ```
 *
 * Rules shared by all kinds:
 * - `v` (integer, required): the format version. A consumer that does not know the version sends
 *   the message to the dead-letter queue with the reason `unknown message version N`; it never
 *   drops it. Any change to the fields — added ones included — means a new version, because the
 *   decoder refuses fields it does not know (a typo must not be silently ignored).
 * - `kind` (string, required): `keys`, `range`, `truncate` or `rebuild`.
 * - `index` (string, required): the `index` name of the schema entry the message is for (the name
 *   in `schema.json`, not a physical index behind an alias). One message never mixes indices.
 * - `lsn` (string, required): an unsigned 64-bit integer in decimal — a string because it may
 *   exceed 2^53, which a JSON number cannot carry exactly. It is the Elasticsearch external version
 *   (`version_type=external_gte`) of every document the message causes to be written or deleted.
 * - `sent_at` (string, required): ISO 8601 UTC time the message was built; for queue-age metrics
 *   only, never for ordering.
 *
 * Key values: a root key is an array of the root table's primary-key values in primary-key column
 * order — always an array, one element for a single-column key. Each value is a JSON string,
 * number or boolean exactly as node-postgres returns it (numbers for int2/int4/float, strings for
 * int8, numeric, text, uuid, dates); integers beyond ±(2^53-1) must be strings. The document `_id`
 * is the values joined with `|`, as PGSync does.
 */

/** One primary-key column value, as node-postgres returns it. */
export type KeyValue = string | number | boolean;

/** A root row's primary key: its column values in primary-key order (never empty). */
export type RootKey = readonly KeyValue[];

/** The version of the message format this module writes. */
export const MESSAGE_VERSION = 1;

/**
 * Root documents to rebuild: `{"v":1,"kind":"keys","index","keys","lsn","xid"?,"sent_at"}`.
 *
 * The consumer rebuilds each document from a database snapshot in which the transaction `lsn`
 * committed is visible, then indexes it (or deletes it when the root row no longer exists) with
 * external version `lsn`. A newer write of the same document, from a later message, always
 * carries a higher `lsn`, so replays and out-of-order deliveries cannot overwrite it.
 */
export interface KeysMessage {
  kind: "keys";
  /** Wire `index`: the schema's index name. */
  index: string;
  /**
   * Wire `keys`: root keys to rebuild, at least one, all of the same length, no duplicates when
   * built by {@link packKeys}.
   */
  keys: readonly RootKey[];
  /**
   * Wire `lsn`: commit LSN of the newest transaction among those that caused these keys to be
   * sent (a poller cycle's keys may come from several transactions; using the newest is safe
   * because the document is built from a snapshot that already includes all of them).
   */
  lsn: bigint;
  /**
   * Wire `xid` (optional): the 32-bit transaction id of the transaction at `lsn`, as wal2json
   * reports it, so the consumer can check its snapshot sees that transaction
   * (`pg_visible_in_snapshot`, after widening to xid8 with the current epoch). Absent when unknown.
   */
  xid?: number;
  /** Wire `sent_at`: ISO 8601 time the message was built. */
  sentAt: string;
}

/**
 * A primary-key range of the root table to copy during a bootstrap or re-index:
 * `{"v":1,"kind":"range","index","range":{"from","to"},"lsn","bootstrap_id","range_id","sent_at"}`.
 *
 * The consumer copies every root row with `from < key <= to` (row-value comparison in primary-key
 * order, `null` meaning unbounded) and writes each document with external version `lsn`.
 */
export interface RangeMessage {
  kind: "range";
  /** Wire `index`: the schema's index name. */
  index: string;
  /**
   * Wire `range`: `from` is exclusive (the last key of the previous range), `to` inclusive;
   * `null` is unbounded on that side, so ranges split at keys k1 < k2 < ... tile the table with no gap. Both
   * bounds, when present, have the primary key's length.
   */
  range: { from: RootKey | null; to: RootKey | null };
  /**
   * Wire `lsn`: the slot's `confirmed_flush_lsn` read before the copy's snapshot was taken. Every
   * transaction not yet handed on commits above it, so its keys message wins over the copy.
   */
  lsn: bigint;
  /** Wire `bootstrap_id`: the bootstrap run this range belongs to (progress is kept per run). */
  bootstrapId: string;
  /** Wire `range_id`: unique within the bootstrap; the consumer marks it done in the checkpoint store. */
  rangeId: string;
  /** Wire `sent_at`: ISO 8601 time the message was built. */
  sentAt: string;
}

/**
 * Root rows went without row changes (the root table or one of its partitions was truncated, a
 * partition attached or detached): `{"v":1,"kind":"truncate","index","lsn","xid"?,"sent_at"}`.
 * The consumer reconciles the index with the root table (lib/reconcile): documents whose root row is
 * gone are deleted and missing ones written, at version `lsn`, so documents written for later
 * transactions (version above `lsn`) stay. Large indices are worked in slices continued by a
 * follow-up message of the same content.
 */
export interface TruncateMessage {
  kind: "truncate";
  /** Wire `index`: the schema's index name. */
  index: string;
  /** Wire `lsn`: commit LSN of the transaction that truncated the root table. */
  lsn: bigint;
  /** Wire `xid` (optional): 32-bit transaction id of that transaction, as wal2json reports it. */
  xid?: number;
  /** Wire `sent_at`: ISO 8601 time the message was built. */
  sentAt: string;
}

/**
 * Every document of the index may be affected and the affected keys are unknown — e.g. a table
 * below the root was truncated: `{"v":1,"kind":"rebuild","index","lsn","xid"?,"sent_at"}`.
 * The consumer reconciles the index in rebuild mode (lib/reconcile): every document is built again
 * from snapshots that see `lsn` and written with external version `lsn`, documents whose root row no
 * longer exists are deleted, missing ones written; in slices, like `truncate`.
 */
export interface RebuildMessage {
  kind: "rebuild";
  /** Wire `index`: the schema's index name. */
  index: string;
  /** Wire `lsn`: commit LSN of the transaction that made the rebuild necessary. */
  lsn: bigint;
  /** Wire `xid` (optional): 32-bit transaction id of that transaction, as wal2json reports it. */
  xid?: number;
  /** Wire `sent_at`: ISO 8601 time the message was built. */
  sentAt: string;
}

/** Any message of format version 1, discriminated by `kind`. */
export type QueueMessage = KeysMessage | RangeMessage | TruncateMessage | RebuildMessage;

/** The kinds of message version 1 knows. */
export const MESSAGE_KINDS = ["keys", "range", "truncate", "rebuild"] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
