import type { Message } from "@aws-sdk/client-sqs";
import { decodeMessage } from "./codec";
import { MessageFormatError } from "./errors";
import type { ReceivedMessage } from "./memory";
import type { QueueMessage } from "./message";
import type { DeadLetter, DeadLetterPublisher } from "./publisher";

/** A message attribute as Lambda delivers it in an SQS event record. */
export interface SqsRecordAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}

/**
 * One record of a Lambda SQS event: the fields slotsync reads (the full shape has more, all
 * ignored). Only `messageId` and `body` are required so local mode can build records itself.
 */
export interface SqsRecord {
  messageId: string;
  body: string;
  receiptHandle?: string;
  attributes?: {
    ApproximateReceiveCount?: string;
    SentTimestamp?: string;
    [name: string]: string | undefined;
  };
  messageAttributes?: Record<string, SqsRecordAttribute>;
  eventSource?: string;
  eventSourceARN?: string;
  awsRegion?: string;
  md5OfBody?: string;
}

/** A Lambda SQS event (`SQSEvent`). */
export interface SqsEvent {
  Records: readonly SqsRecord[];
}

/**
 * The partial batch response (`SQSBatchResponse`). Lambda deletes every record not listed and
 * makes the listed ones visible again; the event source mapping must enable
 * `ReportBatchItemFailures`, or the whole batch is retried instead.
 */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** A record whose body decoded. */
export interface ParsedRecord {
  record: SqsRecord;
  message: QueueMessage;
}

/** A record whose body is not a message this version accepts; it belongs in the DLQ. */
export interface InvalidRecord {
  record: SqsRecord;
  error: MessageFormatError;
}

/**
 * Decodes every record of an event. Never throws for a bad body: each one comes back in `invalid`
 * with its {@link MessageFormatError}, so the caller can dead-letter it with `error.reason` while
 * processing the rest.
 */
export function parseSqsEvent(event: SqsEvent): { valid: ParsedRecord[]; invalid: InvalidRecord[] } {
  const valid: ParsedRecord[] = [];
  const invalid: InvalidRecord[] = [];
  for (const record of event.Records ?? []) {
    try {
      valid.push({ record, message: decodeMessage(record.body) });
    } catch (error) {
      if (!(error instanceof MessageFormatError)) throw error;
      invalid.push({ record, error });
    }
  }
  return { valid, invalid };
}

/**
 * Builds the partial batch response from the records (or message ids) that must be retried.
 * Duplicates are dropped; order is kept. An empty list means the whole batch succeeded.
 */
export function batchResponse(failed: Iterable<SqsRecord | string>): SqsBatchResponse {
  const ids = new Set<string>();
  for (const item of failed) {
    const id = typeof item === "string" ? item : item.messageId;
    // Lambda fails the whole batch on an empty identifier; an empty one cannot name a record.
    if (id) ids.add(id);
  }
  return { batchItemFailures: [...ids].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** The dead letter for a record: its body unchanged, the reason, and where it came from. */
export function deadLetterFor(record: SqsRecord, reason: string): DeadLetter {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return {
    body: record.body,
    reason,
    messageId: record.messageId,
    ...(Number.isInteger(count) && count > 0 ? { receiveCount: count } : {}),
    ...(record.eventSourceARN ? { source: record.eventSourceARN } : {}),
  };
}

/**
 * Sends records to the dead-letter queue with their reasons. Returns the message ids that must
 * be reported as batch item failures: none when the DLQ accepted them all (the originals can then
 * be acknowledged and will not loop), all of them when it did not (they stay in the source queue
 * and come back, and the error is returned for logging).
 */
export async function deadLetterRecords(
  publisher: DeadLetterPublisher,
  items: readonly { record: SqsRecord; reason: string }[],
): Promise<{ failed: string[]; error?: unknown }> {
  if (items.length === 0) return { failed: [] };
  try {
    await publisher.send(items.map(({ record, reason }) => deadLetterFor(record, reason)));
    return { failed: [] };
  } catch (error) {
    return { failed: items.map(({ record }) => record.messageId), error };
  }
}

/** Where converted records say they came from. */
export interface RecordSource {
  eventSourceARN?: string;
  awsRegion?: string;
}

/** A record from a message received with `ReceiveMessage` (for polling SQS outside Lambda). */
export function recordFromSqsMessage(message: Message, source: RecordSource = {}): SqsRecord {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.Attributes ?? {}))
    if (value !== undefined) attributes[name] = value;
  const messageAttributes: Record<string, SqsRecordAttribute> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
    };
  }
  return {
    messageId: message.MessageId ?? "",
    body: message.Body ?? "",
    ...(message.ReceiptHandle ? { receiptHandle: message.ReceiptHandle } : {}),
    attributes,
    messageAttributes,
    ...(message.MD5OfBody ? { md5OfBody: message.MD5OfBody } : {}),
    eventSource: "aws:sqs",
    ...source,
  };
}

/** An event from messages received from a {@link MemoryQueue}, so local mode runs the Lambda handler. */
export function eventFromReceived(messages: readonly ReceivedMessage[], source: RecordSource = {}): SqsEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.receiptHandle,
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
      messageAttributes: Object.fromEntries(
        Object.entries(m.attributes).map(([k, v]) => [k, { dataType: "String", stringValue: v }]),
      ),
      eventSource: "aws:sqs",
      ...source,
    })),
  };
}
