/**
 * A consumer process for the chaos run: does what Lambda's SQS event source does (receive a batch
 * with a short visibility timeout, invoke the handler, delete what the partial batch response did
 * not name) with the real consumer Lambda handler, through the in-process consumer loop.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { handler } from "../../lambdas/consumer";
import { runConsumerLoop } from "../../lib/consumer";
import { SqsConsumerQueue } from "../../lib/queue";
import { lambdaBatches } from "../support/lambda-batches";

const visibility = Number(process.env.CHAOS_VISIBILITY_SECONDS ?? 5);
const sqs = new SQSClient({
  endpoint: process.env.SQS_ENDPOINT,
  region: process.env.AWS_REGION ?? "us-east-1",
});
const queue = new SqsConsumerQueue(sqs, {
  queueUrl: process.env.SQS_QUEUE_URL ?? "",
  waitSeconds: 1,
  visibilityTimeoutSeconds: visibility,
});
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const consumerError = (error: unknown) => emit({ consumerError: (error as Error).message.slice(0, 200) });

// Runs until the chaos run kills the process.
await runConsumerLoop(
  queue,
  lambdaBatches(
    (event) =>
      handler(event, { awsRequestId: "chaos", getRemainingTimeInMillis: () => visibility * 1000 * 6 }),
    consumerError,
  ),
  {
    concurrency: 1,
    stopWhenIdle: false,
    onBatch(outcome) {
      if (outcome.messages.length > 0) {
        const redelivered = outcome.messages.filter((m) => m.receiveCount > 1).length;
        emit({ batch: outcome.messages.length, failed: outcome.failed, redelivered });
      } else if (outcome.error !== undefined) consumerError(outcome.error);
    },
  },
);
