import { describeFinding } from "../../drift";
import { formatBytes, formatDuration, formatTable } from "../output";
import type { StatusReport } from "./types";

/** The report as a two-column table for people. */
export function formatStatus(report: StatusReport, now: number): string {
  const rows: string[][] = [];
  const c = report.configuration;
  rows.push(["postgres", c.postgres ?? "not configured (PG_URL)"]);
  rows.push(["schema", c.schema ?? "not configured (SCHEMA)"]);
  rows.push(["search", c.search ?? "not configured (ELASTICSEARCH_URL)"]);
  rows.push(["state", c.state]);

  const slot = report.slot;
  if (slot && !slot.exists) {
    rows.push(["slot", `${slot.name}: does not exist (run slotsync bootstrap)`]);
  } else if (slot) {
    rows.push([
      "slot",
      `${slot.name}: exists, ${slot.active ? "active" : "not active"}, wal_status ${slot.walStatus ?? "unknown"}`,
    ]);
    rows.push(["confirmed LSN", `${slot.confirmedLsn ?? "none"} (lag ${formatBytes(slot.lagBytes)})`]);
    rows.push([
      "retained WAL",
      `${formatBytes(slot.retainedBytes)} (safe_wal_size ${slot.safeWalSizeBytes === null ? "unlimited" : formatBytes(slot.safeWalSizeBytes)})`,
    ]);
  } else {
    // PG_URL is set but the database could not be read: say so, the error row says why.
    rows.push([
      "slot",
      c.postgres ? "unknown (PostgreSQL could not be read: see the error below)" : "unknown (needs PG_URL)",
    ]);
  }

  const p = report.poller;
  if (p) {
    rows.push(["last poll", when(p.lastPollAt, now)]);
    rows.push(["last success", when(p.lastSuccessAt, now)]);
    rows.push([
      "checkpoint",
      p.checkpointLsn ? `${p.checkpointLsn} at ${when(p.checkpointAt, now)}` : "none",
    ]);
    rows.push([
      "lease",
      p.lease ? `held by ${p.lease.holder} (expires in ${formatDuration(p.lease.expiresInMs)})` : "free",
    ]);
  }

  const q = report.queue;
  rows.push([
    "queue",
    q.kind === "in-process"
      ? "in-process (lives inside `slotsync run`; set SQS_QUEUE_URL to see an SQS queue)"
      : `${c.queue}: ${n(q.visible)} waiting, ${n(q.inFlight)} in flight${q.deadLetters === null ? "" : `, ${q.deadLetters} in the DLQ`}`,
  ]);

  const stream = c.sinkHasIndices === false;
  if (stream) {
    rows.push(["indices", "none: the sink is a stream; its receiver keeps the documents (nothing to count)"]);
  }
  for (const i of report.indices) {
    const docs = stream
      ? "emitted as records (no index)"
      : i.exists === false
        ? "index does not exist (run slotsync bootstrap)"
        : i.documents === null
          ? "documents unknown"
          : `${i.documents} documents${i.aliasOf.length > 0 ? ` (alias of ${i.aliasOf.join(", ")})` : ""}`;
    const rowsText = i.rootRows === null ? "" : `; ${i.rootRows} rows in ${i.rootTable}`;
    rows.push([`index ${i.index}`, `${docs}${rowsText}`]);
  }
  for (const copy of report.copies) {
    const parts: string[] = [];
    if (copy.state === "serving" && stream) {
      parts.push("every document emitted by bootstrap; live changes follow");
    } else if (copy.state === "serving") {
      parts.push(
        copy.servingKind === "alias"
          ? `serving ${copy.serving.join(", ")}`
          : `serving the concrete index ${copy.index} (bootstrap copies it behind an alias)`,
      );
    } else parts.push(copy.state === "building" ? "not served yet" : "not served (run slotsync bootstrap)");
    const b = copy.building;
    if (b) {
      const progress =
        b.total === null ? b.phase : `${n(b.done)}/${n(b.total)} ranges, ${n(b.documents)} documents`;
      parts.push(`building ${b.concrete} (${progress})`);
    }
    for (const r of copy.retired) parts.push(`retired ${r.concrete} (deleted after ${r.deleteAfter})`);
    if (copy.reindexNeeded) parts.push("schema changed since the copy: run slotsync bootstrap --reindex");
    rows.push([`copy ${copy.index}`, parts.join("; ")]);
  }
  for (const b of report.bootstraps) {
    const state = b.completedAt
      ? `completed ${when(b.completedAt, now)}`
      : `started ${when(b.startedAt, now)}`;
    const failed = b.failed > 0 ? `, ${b.failed} failed` : "";
    const running = b.running > 0 ? `, ${b.running} running` : "";
    rows.push([
      `bootstrap ${b.bootstrapId}`,
      `${b.index}: ${b.done}/${b.total} ranges done${running}${failed}, ${b.documents} documents, ${state}`,
    ]);
    if (b.firstFailure) {
      rows.push([
        "RANGE FAILED",
        `${b.firstFailure.rangeId}: ${b.firstFailure.error} — fix the cause, then run slotsync bootstrap --resume`,
      ]);
    }
  }
  for (const f of report.drift?.findings ?? []) {
    rows.push(["SCHEMA DRIFT", `${describeFinding(f)} — ${f.fix}`]);
  }
  for (const missing of report.notConfigured) rows.push(["not configured", missing]);
  for (const error of report.errors) rows.push(["error", error]);
  return `${formatTable(rows)}\n`;
}

function when(iso: string | null, now: number): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${iso} (${formatDuration(now - t)} ago)`;
}

function n(value: number | null): string {
  return value === null ? "?" : String(value);
}
