import { SQSClient } from "@aws-sdk/client-sqs";
import { type CheckpointStore, FileCheckpointStore, type Lease, UpstashCheckpointStore } from "../checkpoint";
import type { QueueConfig, SlotsyncConfig, StateConfig } from "../config";
import { createDocumentBuilder, type DocumentBuilder } from "../document";
import { SqsDeadLetterPublisher, SqsKeyPublisher } from "../queue";
import { loadSchema, type Queryable, type ResolvedSchema, resolveSchema, type SchemaSpec } from "../schema";

/** The checkpoint store the configuration names: Upstash in Lambda, a local directory otherwise. */
export function createStateStore(state: StateConfig): CheckpointStore & Lease {
  return state.kind === "upstash"
    ? new UpstashCheckpointStore({ url: state.url, token: state.token })
    : new FileCheckpointStore({ dir: state.dir });
}

/** An SQS client for the configured queue (endpoint override for ElasticMQ and LocalStack). */
export function createSqsClient(queue: QueueConfig): SQSClient {
  return new SQSClient({
    region: queue.region,
    ...(queue.endpoint ? { endpoint: queue.endpoint } : {}),
    // The SDK's own retries would hide per-entry failures; the publisher retries those itself.
    maxAttempts: 1,
  });
}

export function createKeyPublisher(
  queue: QueueConfig,
  client: SQSClient = createSqsClient(queue),
): SqsKeyPublisher {
  return new SqsKeyPublisher({ client, queueUrl: queue.url });
}

export function createDeadLetterPublisher(
  queue: QueueConfig,
  client: SQSClient = createSqsClient(queue),
): SqsDeadLetterPublisher {
  if (!queue.dlqUrl)
    throw new Error("SQS_DLQ_URL is not set: records that can never succeed need a dead-letter queue");
  return new SqsDeadLetterPublisher({ client, queueUrl: queue.dlqUrl });
}

/** Reads the schema the configuration names (`${VAR}` filled from `env`). */
export function readSchema(
  config: Pick<SlotsyncConfig, "schema"> & Partial<Pick<SlotsyncConfig, "schemaTimeoutMs">>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SchemaSpec> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars[k] = v;
  return loadSchema(config.schema, {
    env: vars,
    ...(config.schemaTimeoutMs === undefined ? {} : { timeoutMs: config.schemaTimeoutMs }),
  });
}

/** Reads the schema and resolves it against the database. */
export async function openSchema(
  config: Pick<SlotsyncConfig, "schema"> & Partial<Pick<SlotsyncConfig, "schemaTimeoutMs">>,
  env: Readonly<Record<string, string | undefined>>,
  db: Queryable,
): Promise<ResolvedSchema> {
  return resolveSchema(await readSchema(config, env), db);
}

/** One document builder per index of the schema, with its plugins loaded. */
export async function createBuilders(
  schema: ResolvedSchema,
  pluginsDir: string | undefined,
): Promise<Map<string, DocumentBuilder>> {
  const builders = new Map<string, DocumentBuilder>();
  for (const index of schema.indices) {
    builders.set(
      index.spec.index,
      await createDocumentBuilder(index, pluginsDir ? { directory: pluginsDir } : {}),
    );
  }
  return builders;
}
