import { displayName, type ReplicaIdentityNeed, type ResolvedSchema, type TableName } from "../schema";
import type { Finding } from "./types";

const same = (a: TableName, b: TableName) => a.schema === b.schema && a.name === b.name;

/** The schema's indices that read `table` (directly, as a through table, or as one of its partitions). */
function indicesUsing(schema: ResolvedSchema, table: TableName): string[] {
  const parent = schema.tables.find((t) => same(t, table))?.partitionOf;
  const tables = parent ? [table, parent] : [table];
  return schema.indices
    .filter((index) => index.tableUses.some((u) => tables.some((t) => same(u.table, t))))
    .map((index) => index.spec.index);
}

/**
 * One critical finding per table whose UPDATE and DELETE records no longer carry the columns the
 * change resolver needs (`schema.replicaIdentityNeeds`, read from the catalog when the schema was
 * resolved): a table set back to `REPLICA IDENTITY DEFAULT`, dropped and created again, or a new
 * partition. Each names the table, what it has now, the `ALTER TABLE` that fixes it, and the
 * repair of documents that changed meanwhile.
 */
export function replicaIdentityFindings(schema: ResolvedSchema): Finding[] {
  return schema.replicaIdentityNeeds.map((need) => replicaIdentityFinding(schema, need));
}

function replicaIdentityFinding(schema: ResolvedSchema, need: ReplicaIdentityNeed): Finding {
  const table = displayName(need.table);
  const indices = indicesUsing(schema, need.table);
  const where = indices.length > 0 ? `index ${indices.join(", ")}` : "the schema";
  const repair =
    indices.length > 0
      ? indices.map((i) => `\`slotsync reconcile --rebuild --index ${i}\``).join(" and ")
      : "`slotsync reconcile --rebuild`";
  return {
    level: "critical",
    code: "replica-identity",
    message: `table ${table} has REPLICA IDENTITY ${need.current.toUpperCase()}, but ${where} needs the old ${need.columns.join(", ")} in its UPDATE and DELETE records: a row deleted or moved there leaves its former document stale`,
    fix: `run \`${need.sql}\` then repair documents changed meanwhile with ${repair}`,
  };
}
