import type { BatchHandler } from "../../lib/consumer";
import type { SqsBatchResponse, SqsEvent } from "../../lib/queue";

/**
 * The consumer Lambda's handler as a batch handler of `runConsumerLoop`, invoked as the SQS event
 * source invokes it: a handler that throws fails its whole batch (the records come again after the
 * visibility timeout) and stops nothing, since in AWS the redrive policy ends the retries, not the
 * consumer. `onThrow` hears each such error. For the processes of the chaos run and the benchmarks.
 */
export function lambdaBatches(
  invoke: (event: SqsEvent) => Promise<SqsBatchResponse>,
  onThrow: (error: unknown) => void,
): BatchHandler {
  return async (event) => {
    try {
      return { response: await invoke(event) };
    } catch (error) {
      onThrow(error);
      return { response: { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) } };
    }
  };
}
