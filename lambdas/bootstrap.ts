import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import {
  type BootstrapDeps,
  type BootstrapEvent,
  bootstrapSettingsFromEnv,
  bootstrapStatus,
  EventBridgeSchedule,
  maintainBootstraps,
  resetSlot,
  runBootstrap,
} from "../lib/bootstrap";
import { loadConfig, slotName } from "../lib/config";
import { connectDatabase } from "../lib/database";
import { ConfigError } from "../lib/errors";
import { createKeyPublisher, createStateStore, openSchema } from "../lib/runtime";
import { createDocumentSink, indexAdminOf } from "../lib/sink";
import {
  createLogger,
  DATABASE_POLICY,
  errorFields,
  type InvocationContext,
  tagInvocation,
  warnConfig,
} from "./context";
import { loadEnvironment } from "./environment";

const logger = createLogger("slotsync-bootstrap");
/** Whether this execution environment ran an invocation already (it wires each one anew). */
let invoked = false;
/** Time kept back for the response: sending stops this long before the Lambda's timeout. */
const SAFETY_MARGIN_MS = 30_000;

/** What a manual invoke can ask for. */
export type BootstrapAction = "start" | "resume" | "status" | "reset";
const ACTIONS: readonly string[] = ["start", "resume", "status", "reset"] satisfies BootstrapAction[];

/** The manual-invoke event. */
export interface BootstrapLambdaEvent {
  /** `start` (default) begins or resumes; `resume` never begins; `status` reads; `reset` drops. */
  action?: BootstrapAction;
  /** Build a new copy of served indices too (after a schema change). */
  reindex?: boolean;
  /** Schema index names (default: all). */
  indices?: string[];
  /** Run the REPLICA IDENTITY FULL statements the schema needs. */
  fixReplicaIdentity?: boolean;
  /** Delete the old copy at the switch instead of after REINDEX_GRACE_MINUTES. */
  deleteOldNow?: boolean;
  /** reset: delete the indices and aliases too (needs `yes`). */
  deleteIndices?: boolean;
  yes?: boolean;
}

/**
 * Bootstrap, re-index, status and reset, for manual invocation (console, `aws lambda invoke`, the
 * CLI). `start` plans and sends range messages and returns well within the time limit; the
 * consumers copy, and the last range switches the alias. Returns the progress summary.
 */
export async function handler(
  event: BootstrapLambdaEvent | undefined,
  context: InvocationContext,
): Promise<Record<string, unknown>> {
  tagInvocation(logger, context, !invoked);
  invoked = true;
  const action = event?.action ?? "start";
  if (!ACTIONS.includes(action)) {
    throw new ConfigError(`unknown bootstrap action "${String(action)}"`, {
      where: "event.action",
      fix: `invoke with {"action": ${ACTIONS.map((a) => `"${a}"`).join(" | ")}}`,
    });
  }
  const env = await loadEnvironment(process.env);
  const config = loadConfig(env, { pg: true, schema: true, sink: true, upstash: true });
  warnConfig(logger, config);
  // Only a copy sends ranges to the queue: status and reset work without one, but a copy checks
  // for it before it connects anywhere.
  const queue =
    action === "start" || action === "resume" ? loadConfig(env, { queue: true }).queue : undefined;
  const settings = bootstrapSettingsFromEnv(env);
  const sink = createDocumentSink(config.sink);
  const events = settings.pollerRuleName ? new EventBridgeClient({}) : undefined;
  const db = await connectDatabase(config.pgUrl, "slotsync-bootstrap", DATABASE_POLICY);
  try {
    const schema = await openSchema(config, env, db);
    const slot = slotName(config);
    const common = {
      slot,
      sink,
      store: createStateStore(config.state),
      holder: context.awsRequestId,
      ...(events && settings.pollerRuleName
        ? { schedule: new EventBridgeSchedule(events, settings.pollerRuleName) }
        : {}),
    };
    const timing = {
      targetsCacheMs: settings.targetsCacheMs,
      graceMs: settings.graceMs,
      deleteOldNow: event?.deleteOldNow === true,
    };
    let result: Record<string, unknown>;
    if (action === "status") {
      // Status also does the housekeeping: it completes copies whose last range finished and
      // deletes old indices whose grace period after a re-index is over.
      const maintenance = await maintainBootstraps(
        common,
        schema.indices.map((i) => i.spec.index),
        { graceMs: settings.graceMs },
      );
      result = {
        action,
        maintenance,
        ...(await bootstrapStatus({ ...common, sink: indexAdminOf(common.sink), schema, db })),
      };
    } else if (action === "reset") {
      result = {
        action,
        ...(await resetSlot(
          { ...common, db, schema },
          {
            deleteIndices: event?.deleteIndices === true,
            yes: event?.yes === true,
            targetsCacheMs: settings.targetsCacheMs,
          },
        )),
      };
    } else {
      const deps: BootstrapDeps = {
        ...common,
        db,
        schema,
        publisher: createKeyPublisher(queue ?? loadConfig(env, { queue: true }).queue),
      };
      const summary = await runBootstrap(deps, {
        ...timing,
        reindex: event?.reindex === true,
        resumeOnly: action === "resume",
        ...(event?.indices ? { indices: event.indices } : {}),
        fixReplicaIdentity: event?.fixReplicaIdentity === true,
        rangeRows: settings.rangeRows,
        resendAfterMs: settings.resendAfterMs,
        deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
        onEvent: (e: BootstrapEvent) => logger.info(`bootstrap ${e.step}`, { ...e }),
      });
      result = { action, ...summary };
    }
    logger.info(`bootstrap ${action} finished`, result);
    return result;
  } catch (error) {
    logger.error(`bootstrap ${action} failed`, errorFields(error));
    throw error;
  } finally {
    await db.end().catch(() => undefined);
    await sink.close().catch(() => undefined);
    events?.destroy();
  }
}
