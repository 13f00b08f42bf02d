import type { SinkConfig } from "../../lib/sink";
import { getServices } from "./services";
import type { TestQueues } from "./sqs";

/** Where a suite's Lambda handlers read and write: its database, schema file, slot and queues. */
export interface LambdaTarget {
  pgUrl: string;
  schema: string;
  slot: string;
  queues: Pick<TestQueues, "queueUrl" | "dlqUrl">;
}

/**
 * The environment the deployed handlers get from the stack, pointed at the local services:
 * PostgreSQL, Elasticsearch, Upstash (the REST adapter), SQS (ElasticMQ) with dummy AWS keys.
 * `extra` adds or overrides variables (timings, alert targets, a plugin folder).
 */
export function lambdaEnvironment(
  target: LambdaTarget,
  extra: Record<string, string> = {},
): Record<string, string> {
  const s = getServices();
  return {
    PG_URL: target.pgUrl,
    SCHEMA: target.schema,
    SLOTSYNC_SLOT: target.slot,
    ELASTICSEARCH_URL: s.elasticsearch.url,
    ELASTICSEARCH_USER: s.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: s.elasticsearch.password,
    UPSTASH_REDIS_REST_URL: s.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: s.upstash.token,
    SQS_QUEUE_URL: target.queues.queueUrl,
    SQS_DLQ_URL: target.queues.dlqUrl,
    SQS_ENDPOINT: s.elasticmq.endpoint,
    AWS_REGION: s.elasticmq.region,
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
    ...extra,
  };
}

/** The local Elasticsearch, as a sink configuration (the one the handlers above write to). */
export function elasticsearchSinkConfig(): SinkConfig {
  const { url, username, password } = getServices().elasticsearch;
  return { engine: "elasticsearch", node: url, auth: { type: "basic", username, password } };
}
