import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { loadConfig, type SlotsyncConfig, slotName } from "../lib/config";
import { connectDatabase } from "../lib/database";
import {
  type AlertNotifier,
  checkWal,
  couldNotCheck,
  createNotifiers,
  exitCodeFor,
  type MonitorSettings,
  type MonitorStore,
  monitorSettingsFromEnv,
  runSchemaChecks,
  type SchemaChecks,
  type WalReport,
  walMetrics,
} from "../lib/monitor";
import { createBuilders, createStateStore, openSchema } from "../lib/runtime";
import { createDocumentSink, indexAdminOf, type SearchSink } from "../lib/sink";
import {
  ColdStart,
  createLogger,
  createMetrics,
  DATABASE_POLICY,
  type InvocationContext,
  warnConfig,
} from "./context";
import { loadEnvironment } from "./environment";

const logger = createLogger("slotsync-monitor");
const metrics = createMetrics("slotsync-monitor");

interface Wired {
  config: SlotsyncConfig;
  env: Record<string, string | undefined>;
  settings: MonitorSettings;
  store: MonitorStore;
  notifiers: AlertNotifier[];
  /** The search engine, for the sampled verify; absent when none is configured or the sink is a stream. */
  sink: SearchSink | undefined;
}

/** Cold start: configuration (secrets included) is read and checked once, then reused. */
async function wire(): Promise<Wired> {
  const env = await loadEnvironment(process.env);
  const config = loadConfig(env, { pg: true, upstash: true });
  warnConfig(logger, config);
  // In Lambda the default bus is always there; ALERT_EVENT_BUS=none turns events off.
  const settings = monitorSettingsFromEnv(env, config.alerts, { defaultEventBus: "default" });
  return {
    config,
    env,
    settings,
    // A stream sink keeps no documents to sample: the monitor skips the sampled verify for it.
    sink: config.sink && config.schema ? indexAdminOf(createDocumentSink(config.sink)) : undefined,
    store: createStateStore(config.state),
    notifiers: createNotifiers(settings, settings.eventBus ? { eventBridge: new EventBridgeClient({}) } : {}),
  };
}

const coldStart = new ColdStart(logger, wire);

/**
 * The scheduled WAL monitor: checks every replication slot and the poller's health, alerts on
 * changes of level (webhook, EventBridge), and writes per-slot metrics in Embedded Metric Format
 * for CloudWatch alarms. Throws when the database cannot be checked, so the function's Errors
 * metric (and its alarm) tells.
 */
export async function handler(_event: unknown, context: InvocationContext): Promise<Record<string, unknown>> {
  const w = await coldStart.begin(context);
  const { report, schema } = await check(w);
  publishMetrics(report, schema);
  const summary = {
    level: report.level,
    exitCode: exitCodeFor(report),
    schemaSlot: report.schemaSlot,
    slots: report.slots.map((s) => ({
      slot: s.name,
      level: s.level,
      retainedBytes: s.retainedBytes,
      walStatus: s.walStatus,
      findings: s.findings.map((f) => f.code),
    })),
    alerts: report.alerts,
    drift: report.drift ?? null,
    replicaIdentityMissing: schema?.replicaIdentityMissing ?? null,
    documents: report.documents ?? null,
  };
  if (!report.checked) {
    logger.error("WAL check failed", { error: report.error });
    throw new Error(`the WAL check could not read the database: ${report.error}`);
  }
  const drifting = (report.drift?.findings.length ?? 0) > 0;
  const log = report.level === "ok" && !drifting ? logger.info : logger.warn;
  log.call(logger, "WAL check finished", summary);
  for (const problem of [...report.problems, ...(schema?.problems ?? [])]) {
    logger.error("WAL monitor problem", { problem });
  }
  return summary;
}

async function check(w: Wired): Promise<{ report: WalReport; schema: SchemaChecks | undefined }> {
  let db: Awaited<ReturnType<typeof connectDatabase>> | undefined;
  try {
    db = await connectDatabase(w.config.pgUrl, "slotsync-monitor", DATABASE_POLICY);
    const slot = slotName(w.config);
    // The schema's own checks (replica identity, the sampled verify) need the schema; without one
    // configured the monitor watches the WAL alone.
    const schema = w.config.schema
      ? await runSchemaChecks(
          {
            db,
            resolve: (c) => openSchema(w.config, w.env, c),
            builders: async (s) => [...(await createBuilders(s, w.config.pluginsDir)).values()],
            ...(w.sink ? { sink: w.sink } : {}),
            store: w.store,
            slot,
          },
          w.settings.verify,
        )
      : undefined;
    const report = await checkWal(
      { db, store: w.store, notifiers: w.notifiers },
      {
        schemaSlot: slot,
        warningBytes: w.settings.warningBytes,
        criticalBytes: w.settings.criticalBytes,
        stalePollMinutes: w.settings.stalePollMinutes,
        reminderMinutes: w.settings.reminderMinutes,
        ...(schema ? { schemaFindings: schema.findings } : {}),
      },
    );
    if (schema?.documents) report.documents = schema.documents;
    return { report, schema };
  } catch (error) {
    return { report: couldNotCheck(error), schema: undefined };
  } finally {
    await db?.end().catch(() => undefined);
  }
}

/** One EMF record per slot, with the dimension `Slot`. */
function publishMetrics(report: WalReport, schema: SchemaChecks | undefined): void {
  metrics.addMetric("CheckFailed", MetricUnit.Count, report.checked ? 0 : 1);
  // Documents two sampled comparisons in a row found different from the database (an alarm on it).
  if (report.documents) metrics.addMetric("DocumentsDiverged", MetricUnit.Count, report.documents.diverged);
  // Tables that lack the REPLICA IDENTITY FULL the schema needs (an alarm on it).
  if (schema?.replicaIdentityMissing !== undefined) {
    metrics.addMetric("ReplicaIdentityMissing", MetricUnit.Count, schema.replicaIdentityMissing);
  }
  // 1 while the deployed schema no longer matches the database (for an alarm on schema drift).
  metrics.addMetric("SchemaDrift", MetricUnit.Count, (report.drift?.findings.length ?? 0) > 0 ? 1 : 0);
  metrics.addMetric(
    "AlertDeliveryFailures",
    MetricUnit.Count,
    report.alerts.reduce((n, a) => n + a.failed.length, 0),
  );
  metrics.publishStoredMetrics();
  for (const { slot, metrics: values } of walMetrics(report)) {
    metrics.addDimension("Slot", slot);
    if (values.RetainedWalBytes !== undefined) {
      metrics.addMetric("RetainedWalBytes", MetricUnit.Bytes, values.RetainedWalBytes);
    }
    if (values.ConfirmedFlushLagBytes !== undefined) {
      metrics.addMetric("ConfirmedFlushLagBytes", MetricUnit.Bytes, values.ConfirmedFlushLagBytes);
    }
    if (values.SecondsSinceLastPoll !== undefined) {
      metrics.addMetric("SecondsSinceLastPoll", MetricUnit.Seconds, values.SecondsSinceLastPoll);
    }
    metrics.addMetric("WalStatusLevel", MetricUnit.NoUnit, values.WalStatusLevel);
    metrics.publishStoredMetrics();
  }
}
