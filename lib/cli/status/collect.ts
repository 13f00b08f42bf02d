import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type pg from "pg";
import { bootstrapStatus } from "../../bootstrap";
import type { CheckpointStore, Lease } from "../../checkpoint";
import type { Env, QueueConfig, SlotsyncConfig } from "../../config";
import { slotName } from "../../config";
import { connectDatabase, describePgUrl } from "../../database";
import { readCurrentDrift } from "../../drift";
import { firstFailedRange } from "../../monitor";
import { createSqsClient, createStateStore, readSchema } from "../../runtime";
import {
  checkSchema,
  describeSource,
  qualifiedName,
  type ResolvedSchema,
  type SchemaSpec,
} from "../../schema";
import { redactUrl } from "../../security";
import {
  createDocumentSink,
  type DocumentSinkConfig,
  type DocumentWriter,
  indexAdminOf,
  isStreamSinkConfig,
  requireIndexAdmin,
} from "../../sink";
import { formatLsn, PgSlotReader, SlotMissingError } from "../../slot";
import { errorLine } from "../errors";
import type { StatusReport } from "./types";

/**
 * Gathers everything `slotsync status` shows. Each part is read on its own: what is not configured
 * is named in `notConfigured`, what could not be read goes to `errors`, and the rest is shown.
 */
export async function collectStatus(config: SlotsyncConfig, env: Env, now: number): Promise<StatusReport> {
  const report: StatusReport = {
    configuration: {
      postgres: config.pgUrl ? describePgUrl(config.pgUrl) : null,
      schema: config.schema ? describeSource(config.schema) : null,
      search: config.sink ? `${config.sink.engine} ${sinkNodes(config.sink)}` : null,
      sinkHasIndices: config.sink ? !isStreamSinkConfig(config.sink) : null,
      queue: config.queue ? redactUrl(config.queue.url) : "in-process",
      state:
        config.state.kind === "upstash"
          ? `upstash ${redactUrl(config.state.url)}`
          : `file ${config.state.dir}`,
    },
    slot: null,
    poller: null,
    queue: config.queue
      ? { kind: "sqs", visible: null, inFlight: null, deadLetters: null }
      : { kind: "in-process" },
    indices: [],
    bootstraps: [],
    copies: [],
    notConfigured: [],
    errors: [],
  };
  const fail = (part: string, error: unknown) => report.errors.push(`${part}: ${errorLine(error)}`);
  if (!config.pgUrl) report.notConfigured.push("PG_URL (the database: slot, lag, root rows)");
  if (!config.schema) report.notConfigured.push("SCHEMA or SCHEMA_URL (the indices)");
  if (!config.sink) report.notConfigured.push("ELASTICSEARCH_URL (document counts)");

  let spec: SchemaSpec | undefined;
  if (config.schema) {
    try {
      spec = await readSchema(config, env);
    } catch (error) {
      fail("schema", error);
    }
  }

  let db: pg.Client | undefined;
  let resolved: ResolvedSchema | undefined;
  const slot = slotName(config);
  if (config.pgUrl) {
    try {
      db = await connectDatabase(config.pgUrl, "slotsync-status");
      report.slot = await readSlot(db, slot);
      if (spec) {
        const check = await checkSchema(spec, db);
        resolved = check.resolved;
        if (!resolved) report.errors.push(`schema: ${check.problems.length} problems; run slotsync validate`);
      }
    } catch (error) {
      fail("PostgreSQL", error);
    }
  }

  try {
    const store = createStateStore(config.state);
    report.poller = await readPoller(store, slot, now);
    report.bootstraps = await readBootstraps(store, slot);
    const drift = await readCurrentDrift(store, slot);
    report.drift = drift?.drift
      ? { findings: drift.drift.findings, detectedAt: drift.drift.detectedAt, source: drift.drift.source }
      : null;
  } catch (error) {
    fail(config.state.kind === "upstash" ? "Upstash" : "state directory", error);
  }

  if (config.queue) {
    try {
      report.queue = await readQueue(config.queue);
    } catch (error) {
      fail("SQS", error);
    }
  }

  const names = resolved?.indices.map((i) => i.spec.index) ?? spec?.map((s) => s.index) ?? [];
  for (const name of names) {
    const entry: StatusReport["indices"][number] = {
      index: name,
      exists: null,
      documents: null,
      aliasOf: [],
      rootTable: null,
      rootRows: null,
    };
    report.indices.push(entry);
    const root = resolved?.indices.find((i) => i.spec.index === name)?.root.table;
    if (db && root) {
      entry.rootTable = `${root.schema}.${root.name}`;
      try {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ${qualifiedName(root)}`,
        );
        entry.rootRows = Number(rows[0]?.n ?? 0);
      } catch (error) {
        fail(`rows of ${entry.rootTable}`, error);
      }
    }
  }
  if (config.sink && isStreamSinkConfig(config.sink)) {
    // A stream has no index to count: only what bootstrap recorded about the copies it emitted.
    if (resolved && slot) {
      const sink = createDocumentSink(config.sink);
      try {
        report.copies = await readCopies(slot, resolved, sink, config);
      } catch (error) {
        fail("state", error);
      } finally {
        await sink.close().catch(() => undefined);
      }
    }
  } else if (config.sink && names.length > 0) {
    const sink = requireIndexAdmin(createDocumentSink(config.sink), "slotsync status");
    try {
      for (const entry of report.indices) {
        entry.exists = await sink.indexExists(entry.index);
        if (!entry.exists) continue;
        entry.aliasOf = await sink.getAliasTargets(entry.index);
        entry.documents = await sink.count(entry.index);
      }
      if (resolved && slot) report.copies = await readCopies(slot, resolved, sink, config);
    } catch (error) {
      fail(config.sink.engine, error);
    } finally {
      await sink.close().catch(() => undefined);
    }
  }
  await db?.end().catch(() => undefined);
  return report;
}

async function readSlot(db: pg.Client, slot: string): Promise<StatusReport["slot"]> {
  try {
    const info = await new PgSlotReader(db, slot).info();
    const { rows } = await db.query<{ lag: string | null }>(
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    const lag = rows[0]?.lag;
    return {
      name: slot,
      exists: true,
      active: info.active,
      plugin: info.plugin,
      walStatus: info.walStatus,
      confirmedLsn: info.confirmedFlushLsn === null ? null : formatLsn(info.confirmedFlushLsn),
      lagBytes: lag ? Number(lag.split(".")[0]) : null,
      retainedBytes: info.retainedBytes === null ? null : Number(info.retainedBytes),
      safeWalSizeBytes: info.safeWalSize === null ? null : Number(info.safeWalSize),
    };
  } catch (error) {
    if (!(error instanceof SlotMissingError)) throw error;
    return {
      name: slot,
      exists: false,
      active: null,
      plugin: null,
      walStatus: null,
      confirmedLsn: null,
      lagBytes: null,
      retainedBytes: null,
      safeWalSizeBytes: null,
    };
  }
}

async function readPoller(
  store: CheckpointStore & Lease,
  slot: string,
  now: number,
): Promise<StatusReport["poller"]> {
  const [stats, checkpoint, holder] = await Promise.all([
    store.readStats(slot),
    store.readCheckpoint(slot),
    store.holder(slot),
  ]);
  return {
    lastPollAt: stats?.lastPollAt ?? null,
    lastSuccessAt: stats?.lastSuccessAt ?? null,
    lagBytes: stats?.lagBytes ?? null,
    checkpointLsn: checkpoint ? formatLsn(BigInt(checkpoint.lsn)) : null,
    checkpointAt: checkpoint?.updatedAt ?? null,
    lease: holder ? { holder: holder.holderId, expiresInMs: holder.expiresInMs } : null,
    now: new Date(now).toISOString(),
  };
}

async function readBootstraps(store: CheckpointStore, slot: string): Promise<StatusReport["bootstraps"]> {
  const ids = (await store.listBootstraps(slot)).slice(0, 3);
  const out: StatusReport["bootstraps"] = [];
  for (const id of ids) {
    const b = await store.readBootstrap(slot, id);
    if (!b) continue;
    out.push({
      bootstrapId: b.bootstrapId,
      index: b.index,
      done: b.done,
      total: b.total,
      running: b.running,
      failed: b.failed,
      documents: b.documents,
      startedAt: b.startedAt,
      completedAt: b.completedAt,
      ...(b.failed > 0 ? { firstFailure: firstFailedRange(b.ranges) } : {}),
    });
  }
  return out;
}

async function readCopies(
  slot: string,
  schema: ResolvedSchema,
  sink: DocumentWriter,
  config: SlotsyncConfig,
): Promise<StatusReport["copies"]> {
  const status = await bootstrapStatus({
    slot,
    schema,
    sink: indexAdminOf(sink),
    store: createStateStore(config.state),
  });
  const stream = config.sink !== undefined && isStreamSinkConfig(config.sink);
  return status.indices.map((i) => ({
    index: i.index,
    // A stream sink serves nothing itself: a copy counts once bootstrap emitted all of it.
    state: (stream ? i.served !== null : i.serving.length > 0) ? "serving" : i.building ? "building" : "none",
    servingKind: i.servingKind,
    serving: i.serving,
    building: i.building
      ? {
          concrete: i.building.concrete,
          bootstrapId: i.building.bootstrapId,
          phase: i.building.phase,
          done: i.building.progress?.done ?? null,
          total: i.building.progress?.total ?? null,
          documents: i.building.progress?.documents ?? null,
        }
      : null,
    retired: i.retired.map((r) => ({ concrete: r.concrete, deleteAfter: r.deleteAfter })),
    reindexNeeded: i.reindexNeeded,
  }));
}

async function readQueue(queue: QueueConfig): Promise<StatusReport["queue"]> {
  const sqs = createSqsClient(queue);
  try {
    const depth = async (url: string) => {
      const res = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return {
        visible: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    };
    const main = await depth(queue.url);
    const dlq = queue.dlqUrl ? await depth(queue.dlqUrl) : undefined;
    return {
      kind: "sqs",
      visible: main.visible,
      inFlight: main.inFlight,
      deadLetters: dlq ? dlq.visible : null,
    };
  } finally {
    sqs.destroy();
  }
}

function sinkNodes(sink: DocumentSinkConfig): string {
  if (sink.engine === "webhook") return redactUrl(sink.url, { path: false });
  if (sink.engine === "ndjson") return !sink.path || sink.path.trim() === "-" ? "stdout" : sink.path;
  const node = sink.node;
  if (typeof node === "string") return redactUrl(node);
  if (node !== undefined) return node.map((n) => redactUrl(n)).join(", ");
  return "(Elastic Cloud id)";
}
