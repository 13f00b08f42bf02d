import { DisableRuleCommand, EnableRuleCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { BootstrapError } from "./errors";

/**
 * The poller's schedule. Bootstrap turns it on once a copy is switched in (before that there is
 * nothing to keep in sync, and the slot may not exist); reset turns it off with the slot, so a
 * dropped slot does not raise an error every minute.
 */
export interface PollerSchedule {
  enable(): Promise<void>;
  disable(): Promise<void>;
}

/** The poller's EventBridge rule (the stack passes its name as POLLER_RULE_NAME). */
export class EventBridgeSchedule implements PollerSchedule {
  constructor(
    private readonly client: Pick<EventBridgeClient, "send">,
    readonly ruleName: string,
    private readonly eventBusName?: string,
  ) {}

  async enable(): Promise<void> {
    await this.call("enable", () =>
      this.client.send(new EnableRuleCommand({ Name: this.ruleName, EventBusName: this.eventBusName })),
    );
  }

  async disable(): Promise<void> {
    await this.call("disable", () =>
      this.client.send(new DisableRuleCommand({ Name: this.ruleName, EventBusName: this.eventBusName })),
    );
  }

  private async call(what: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (cause) {
      const name = (cause as { name?: string }).name ?? "Error";
      throw new BootstrapError(`cannot ${what} the poller's EventBridge rule "${this.ruleName}" (${name})`, {
        cause,
        where: "POLLER_RULE_NAME",
        retryable: name !== "ResourceNotFoundException" && name !== "AccessDeniedException",
        fix:
          name === "ResourceNotFoundException"
            ? "set POLLER_RULE_NAME to the name of the poller's schedule rule"
            : `grant events:${what === "enable" ? "EnableRule" : "DisableRule"} on the rule to the function's role`,
      });
    }
  }
}
