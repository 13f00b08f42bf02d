import type pg from "pg";
import type { DocumentBuilder, DocumentResult } from "../document";
import { keyCandidates } from "./ids";

/**
 * Builds what the database says about each `_id` inside the caller's snapshot: the document when a
 * root row stands behind it, else nothing (its root row is gone, a row filter or plugin drops it,
 * or it names no possible key). Runs inside an open transaction on `client`.
 */
export async function judgeIds(
  client: pg.ClientBase,
  builder: DocumentBuilder,
  ids: readonly string[],
): Promise<Map<string, DocumentResult>> {
  const table = builder.index.root.table;
  const keys = ids.flatMap((id) => keyCandidates(table, id));
  const wanted = new Set(ids);
  const found = new Map<string, DocumentResult>();
  for (const result of await buildTolerant(client, builder, keys)) {
    if (result.action === "index" && wanted.has(result._id)) found.set(result._id, result);
  }
  return found;
}

/**
 * `builder.build`, except that a key the database cannot even read as the key's types (a stray
 * `_id` such as `abc` for an integer key: SQLSTATE class 22) is left out instead of failing the
 * page: it names no row, so its document is extra.
 */
export async function buildTolerant(
  client: pg.ClientBase,
  builder: DocumentBuilder,
  keys: readonly string[][],
): Promise<DocumentResult[]> {
  if (keys.length === 0) return [];
  await client.query("SAVEPOINT slotsync_reconcile");
  try {
    const results = await builder.build(client, keys);
    await client.query("RELEASE SAVEPOINT slotsync_reconcile");
    return results;
  } catch (error) {
    if (!isDataError(error)) throw error;
    await client.query("ROLLBACK TO SAVEPOINT slotsync_reconcile");
  }
  if (keys.length === 1) return [];
  // Halve until the unreadable keys are alone: a few bad ids cost a few more statements.
  const middle = Math.ceil(keys.length / 2);
  return [
    ...(await buildTolerant(client, builder, keys.slice(0, middle))),
    ...(await buildTolerant(client, builder, keys.slice(middle))),
  ];
}

function isDataError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("22")) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
