import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
} from "@aws-sdk/client-eventbridge";
import { AlertDeliveryError } from "./errors";
import type { WalAlert } from "./types";
import type { AlertNotifier } from "./webhook";

/** `source` of the monitor's EventBridge events. */
export const EVENT_SOURCE = "slotsync";
/** `detail-type` of the monitor's EventBridge events. */
export const EVENT_DETAIL_TYPE = "slotsync.wal-alert";
/** `detail-type` of the schema drift alert's events. */
export const DRIFT_EVENT_DETAIL_TYPE = "slotsync.schema-drift";

/** The `detail` of a `slotsync.wal-alert` event: the alert as every channel sees it. */
export function eventDetail(alert: WalAlert): Record<string, unknown> {
  return { ...alert };
}

export interface EventBridgeNotifierOptions {
  client: Pick<EventBridgeClient, "send">;
  /** `ALERT_EVENT_BUS`: a bus name or ARN. */
  eventBus: string;
}

/**
 * Puts each alert on an EventBridge bus (source `slotsync`, detail-type `slotsync.wal-alert`, or
 * `slotsync.schema-drift` for the schema drift alert), for
 * rules that page, open tickets or fan out to SNS. The SDK retries throttling itself.
 */
export class EventBridgeNotifier implements AlertNotifier {
  readonly channel: string;

  constructor(private readonly options: EventBridgeNotifierOptions) {
    this.channel = `eventbridge:${options.eventBus}`;
  }

  async notify(alert: WalAlert): Promise<void> {
    let result: PutEventsCommandOutput;
    try {
      result = await this.options.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.options.eventBus,
              Source: EVENT_SOURCE,
              DetailType: alert.topic === "schema-drift" ? DRIFT_EVENT_DETAIL_TYPE : EVENT_DETAIL_TYPE,
              Time: new Date(alert.at),
              Detail: JSON.stringify(eventDetail(alert)),
            },
          ],
        }),
      );
    } catch (error) {
      const e = error as { name?: string; message?: string };
      throw new AlertDeliveryError(
        `EventBridge PutEvents on bus "${this.options.eventBus}" failed: ${e.name ?? "Error"}: ${e.message ?? ""}`,
        {
          where: "ALERT_EVENT_BUS",
          cause: error,
          retryable: true,
          fix: "check ALERT_EVENT_BUS and that the function may call events:PutEvents on it",
        },
      );
    }
    if (result.FailedEntryCount) {
      const entry = result.Entries?.find((e) => e.ErrorCode);
      throw new AlertDeliveryError(
        `EventBridge refused the event on bus "${this.options.eventBus}": ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`.trim(),
        {
          where: "ALERT_EVENT_BUS",
          retryable: true,
          fix: "check that the bus exists and the function may call events:PutEvents on it",
        },
      );
    }
  }
}
