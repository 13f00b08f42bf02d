import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ConsumerDriftPort, LeasedClient } from "../consumer";
import {
  batchResponse,
  type DeadLetter,
  deadLetterFor,
  type SqsBatchResponse,
  type SqsEvent,
  type SqsRecord,
} from "../queue";
import type { SchemaDriftError } from "./errors";
import type { DriftGuard } from "./guard";

/** SQS's longest visibility timeout (12 hours), less a minute of margin. */
export const MAX_VISIBILITY_SECONDS = 43_140;

/** How records blocked by drift wait before their next delivery. */
export interface DriftRetrySettings {
  /** Wait after the first failed delivery (DRIFT_RETRY_DELAY_MINUTES); doubled at each further one. */
  firstDelaySeconds: number;
  /** Deliveries after which a record still blocked goes to the DLQ (the queue's maxReceiveCount). */
  maxReceives: number;
}

/** The delivery count SQS reports for a record (1 on the first delivery). */
export function receiveCount(record: SqsRecord): number {
  const n = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** The wait before delivery `receives + 1`: the first delay, doubled per earlier delivery, at most 12 hours. */
export function driftDelaySeconds(
  receives: number,
  settings: Pick<DriftRetrySettings, "firstDelaySeconds">,
): number {
  const seconds = settings.firstDelaySeconds * 2 ** Math.max(0, Math.min(receives - 1, 20));
  return Math.max(0, Math.min(Math.round(seconds), MAX_VISIBILITY_SECONDS));
}

/** Delays records' next delivery, e.g. with SQS ChangeMessageVisibility. */
export interface RecordDelayer {
  delay(records: readonly SqsRecord[]): Promise<void>;
}

/**
 * Delays records on an SQS queue by changing their visibility timeout (the receipt handle of this
 * delivery), ten per request. A record without a receipt handle is left alone (it comes back
 * after the queue's visibility timeout). Throws when SQS refuses: the caller only loses the delay.
 */
export class SqsRecordDelayer implements RecordDelayer {
  constructor(
    private readonly options: {
      client: Pick<SQSClient, "send">;
      queueUrl: string;
      settings: Pick<DriftRetrySettings, "firstDelaySeconds">;
    },
  ) {}

  async delay(records: readonly SqsRecord[]): Promise<void> {
    const entries = records
      .filter((r) => r.receiptHandle)
      .map((r, i) => ({
        Id: String(i),
        ReceiptHandle: r.receiptHandle as string,
        VisibilityTimeout: driftDelaySeconds(receiveCount(r), this.options.settings),
      }));
    for (let i = 0; i < entries.length; i += 10) {
      const result = await this.options.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: entries.slice(i, i + 10),
        }),
      );
      const failed = result.Failed ?? [];
      if (failed.length > 0) {
        throw new Error(
          `SQS refused to delay ${failed.length} record(s): ${failed[0]?.Code ?? "unknown"} ${failed[0]?.Message ?? ""}`.trim(),
        );
      }
    }
  }
}

/** The DLQ reason of a record that drift kept from succeeding until its last delivery. */
export function driftDeadLetterReason(error: SchemaDriftError): string {
  return `schema-drift: ${error.message}; the re-index after the schema fix rebuilds these documents`;
}

/**
 * Splits records blocked by drift: those on their last delivery go to the DLQ (reason
 * `schema-drift`) rather than into the redrive without a reason; the others wait for the fix.
 */
export function splitDrifted(
  records: readonly SqsRecord[],
  maxReceives: number,
): { wait: SqsRecord[]; deadLetter: SqsRecord[] } {
  const wait: SqsRecord[] = [];
  const deadLetter: SqsRecord[] = [];
  for (const r of records) (receiveCount(r) >= maxReceives ? deadLetter : wait).push(r);
  return { wait, deadLetter };
}

/**
 * The consumer's drift port: after a build failure that suggests drift, a catalog check on a
 * connection of its own; blocked records wait with a long back-off.
 */
export function consumerDriftPort(options: {
  guard: DriftGuard;
  connect(): Promise<LeasedClient>;
  delayer?: RecordDelayer;
  maxReceives: number;
}): ConsumerDriftPort {
  return {
    maxReceives: options.maxReceives,
    async explain(error) {
      const lease = await options.connect();
      let failure: Error | undefined;
      try {
        const verdict = await options.guard.afterFailure(lease.client, error);
        return verdict.status === "ok" ? undefined : verdict.error;
      } catch (e) {
        failure = e as Error;
        throw e;
      } finally {
        lease.release(failure);
      }
    },
    async delay(records) {
      await options.delayer?.delay(records);
    },
  };
}

/**
 * A whole event while the consumer cannot even resolve its schema (a table or column is gone):
 * no record can be built. Records on their last delivery go to the DLQ with reason
 * `schema-drift`; the others wait with a long back-off and are reported as failed.
 */
export async function holdDriftedEvent(
  event: SqsEvent,
  error: SchemaDriftError,
  options: {
    delayer?: RecordDelayer;
    deadLetter(letters: DeadLetter[]): Promise<void>;
    maxReceives: number;
  },
): Promise<{ response: SqsBatchResponse; delayed: number; deadLettered: number; problems: unknown[] }> {
  const { wait, deadLetter } = splitDrifted(event.Records, options.maxReceives);
  const failed = new Set(wait.map((r) => r.messageId));
  const problems: unknown[] = [];
  let deadLettered = 0;
  if (deadLetter.length > 0) {
    const reason = driftDeadLetterReason(error);
    try {
      await options.deadLetter(deadLetter.map((r) => deadLetterFor(r, reason)));
      deadLettered = deadLetter.length;
    } catch (e) {
      problems.push(e);
      for (const r of deadLetter) failed.add(r.messageId);
    }
  }
  try {
    if (wait.length > 0) await options.delayer?.delay(wait);
  } catch (e) {
    problems.push(e);
  }
  return { response: batchResponse(failed), delayed: wait.length, deadLettered, problems };
}
