/**
 * A consumer process for the chaos run: does what Lambda's SQS event source does (receive a batch
 * with a short visibility timeout, invoke the handler, delete what the partial batch response did
 * not name) with the real consumer Lambda handler.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { handler } from "../../lambdas/consumer";
import { recordFromSqsMessage } from "../../lib/queue";

const queueUrl = process.env.SQS_QUEUE_URL ?? "";
const visibility = Number(process.env.CHAOS_VISIBILITY_SECONDS ?? 5);
const sqs = new SQSClient({
  endpoint: process.env.SQS_ENDPOINT,
  region: process.env.AWS_REGION ?? "us-east-1",
});

async function main(): Promise<void> {
  for (;;) {
    try {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: visibility,
          AttributeNames: ["All"],
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) continue;
      const redelivered = messages.filter(
        (m) => Number(m.Attributes?.ApproximateReceiveCount ?? 1) > 1,
      ).length;
      const response = await handler(
        { Records: messages.map((m) => recordFromSqsMessage(m)) },
        { awsRequestId: "chaos", getRemainingTimeInMillis: () => visibility * 1000 * 6 },
      );
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
      }
      process.stdout.write(
        `${JSON.stringify({ batch: messages.length, failed: failed.size, redelivered })}\n`,
      );
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ consumerError: (error as Error).message.slice(0, 200) })}\n`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

void main();
