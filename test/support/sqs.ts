import { randomBytes } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { getServices } from "./services";

export interface TestQueues {
  client: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** Receives and deletes until `count` messages came or `timeoutMs` passed; returns their bodies. */
  drain(options?: { count?: number; timeoutMs?: number; visibilityTimeout?: number }): Promise<string[]>;
  /** Bodies and attributes of messages in the dead-letter queue, received and deleted. */
  drainDlq(options?: {
    count?: number;
    timeoutMs?: number;
  }): Promise<{ body: string; attributes: Record<string, string> }[]>;
  remove(): Promise<void>;
}

/** A fresh queue with a dead-letter queue (redrive after `maxReceiveCount`) on ElasticMQ. */
export async function createTestQueues(prefix: string, maxReceiveCount = 3): Promise<TestQueues> {
  const { endpoint, region } = getServices().elasticmq;
  const client = new SQSClient({ endpoint, region, credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl ?? "";
  const attrs = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes?.QueueArn, maxReceiveCount }),
        VisibilityTimeout: "30",
      },
    }),
  );
  const queueUrl = main.QueueUrl ?? "";

  async function receive(url: string, count: number, timeoutMs: number, visibilityTimeout?: number) {
    const out: { body: string; attributes: Record<string, string> }[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) {
      const res = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
          ...(visibilityTimeout === undefined ? {} : { VisibilityTimeout: visibilityTimeout }),
        }),
      );
      const messages = res.Messages ?? [];
      for (const m of messages) {
        const attributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) attributes[k] = v.StringValue ?? "";
        out.push({ body: m.Body ?? "", attributes });
      }
      if (messages.length > 0) {
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
      }
    }
    return out;
  }

  return {
    client,
    queueUrl,
    dlqUrl,
    async drain(options = {}) {
      const got = await receive(
        queueUrl,
        options.count ?? Number.MAX_SAFE_INTEGER,
        options.timeoutMs ?? 3000,
        options.visibilityTimeout,
      );
      return got.map((g) => g.body);
    },
    drainDlq(options = {}) {
      return receive(dlqUrl, options.count ?? Number.MAX_SAFE_INTEGER, options.timeoutMs ?? 3000);
    },
    async remove() {
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
      await client.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
      client.destroy();
    },
  };
}
