import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { describe, expect, it } from "vitest";
import {
  AlertDeliveryError,
  detectWebhookFormat,
  discordPayload,
  EventBridgeNotifier,
  jsonPayload,
  slackPayload,
  type WalAlert,
  WebhookNotifier,
} from "../../../lib/monitor";

function sampleAlert(overrides: Partial<WalAlert> = {}): WalAlert {
  return {
    slot: "slotsync_app",
    isSchemaSlot: true,
    kind: "raised",
    level: "critical",
    previousLevel: "warning",
    since: "2026-03-01T12:00:00.000Z",
    at: "2026-03-01T12:00:00.000Z",
    retainedBytes: 13 * 1024 ** 3,
    walStatus: "extended",
    walStatusMeaning: "extended: the slot keeps more than max_wal_size (watch it)",
    active: false,
    safeWalSizeBytes: 2 * 1024 ** 3,
    confirmedFlushLagBytes: 1024 ** 2,
    secondsSinceLastPoll: 90,
    thresholds: { warningBytes: 12 * 1024 ** 3, criticalBytes: 13 * 1024 ** 3, source: "environment" },
    message: "retained WAL 13 GB is at or above the critical threshold 13 GB",
    recovery: "check the poller <now> & then",
    findings: [
      {
        level: "critical",
        code: "retained-critical",
        message: "retained WAL 13 GB is at or above",
        fix: "x",
      },
      { level: "warning", code: "stale-poll", message: "the last successful poll was 12 minutes ago" },
    ],
    ...overrides,
  };
}

describe("detectWebhookFormat", () => {
  it("knows Discord and Slack by their webhook URLs, anything else is JSON", () => {
    expect(detectWebhookFormat("https://discord.com/api/webhooks/1/abc")).toBe("discord");
    expect(detectWebhookFormat("https://canary.discordapp.com/api/webhooks/1/abc")).toBe("discord");
    expect(detectWebhookFormat("https://discord.com/channels/1")).toBe("json");
    expect(detectWebhookFormat("https://hooks.slack.com/services/T/B/X")).toBe("slack");
    expect(detectWebhookFormat("https://example.com/hooks/slack")).toBe("json");
    expect(detectWebhookFormat("not a url")).toBe("json");
  });
});

describe("payloads", () => {
  it("gives Discord content and one embed with title, description, color and fields", () => {
    const body = discordPayload(sampleAlert()) as {
      content: string;
      allowed_mentions: unknown;
      embeds: {
        title: string;
        description: string;
        color: number;
        fields: { name: string; value: string }[];
      }[];
    };
    expect(body.content).toBe(
      "**CRITICAL (was WARNING)** slot `slotsync_app`: retained WAL 13 GB is at or above the critical threshold 13 GB",
    );
    expect(body.allowed_mentions).toEqual({ parse: [] });
    const [embed] = body.embeds;
    expect(embed?.title).toBe("slotsync WAL CRITICAL (was WARNING): slot slotsync_app");
    expect(embed?.color).toBe(0xe74c3c);
    expect(embed?.description).toContain("**What to do:** check the poller <now> & then");
    expect(embed?.description).toContain("WARNING: the last successful poll was 12 minutes ago");
    expect(Object.fromEntries(embed?.fields.map((f) => [f.name, f.value]) ?? [])).toMatchObject({
      "Retained WAL": "13 GB",
      Active: "no (normal between polls)",
      "Safe WAL size": "2 GB",
      Thresholds: "warning 12 GB, critical 13 GB (environment)",
      "Last successful poll": "1 min ago",
    });
  });

  it("keeps Discord's limits on long texts", () => {
    const body = discordPayload(sampleAlert({ message: "m".repeat(5000), recovery: "r".repeat(5000) })) as {
      content: string;
      embeds: { description: string }[];
    };
    expect(body.content.length).toBe(2000);
    expect(body.embeds[0]?.description.length).toBe(4096);
  });

  it("gives Slack a fallback text and blocks, with mrkdwn escaped", () => {
    const body = slackPayload(sampleAlert()) as { text: string; blocks: Record<string, unknown>[] };
    expect(body.text).toBe(
      "slotsync WAL CRITICAL (was WARNING): slot slotsync_app: retained WAL 13 GB is at or above the critical threshold 13 GB",
    );
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(JSON.stringify(body.blocks[1])).toContain("check the poller &lt;now&gt; &amp; then");
    const fields = (body.blocks[2]?.fields ?? []) as { text: string }[];
    expect(fields.map((f) => f.text.split("\n")[0])).toEqual([
      "*Retained WAL*",
      "*wal_status*",
      "*Active*",
      "*Safe WAL size*",
      "*Confirmed-flush lag*",
      "*Thresholds*",
      "*Last successful poll*",
    ]);
  });

  it("says recovered in the title and leaves out the other findings on recovery", () => {
    const alert = sampleAlert({
      kind: "recovered",
      level: "ok",
      previousLevel: "critical",
      message: "back to OK",
      recovery: "",
    });
    const body = discordPayload(alert) as { embeds: { title: string; description: string; color: number }[] };
    expect(body.embeds[0]).toMatchObject({
      title: "slotsync WAL RECOVERED (was CRITICAL): slot slotsync_app",
      description: "back to OK",
    });
    expect(body.embeds[0]?.color).toBe(0x2ecc71);
  });

  it("gives other receivers the alert itself", () => {
    expect(jsonPayload(sampleAlert())).toMatchObject({
      source: "slotsync",
      type: "slotsync.wal-alert",
      slot: "slotsync_app",
      level: "critical",
      previousLevel: "warning",
      retainedBytes: 13 * 1024 ** 3,
    });
  });
});

describe("WebhookNotifier", () => {
  const URL_ = "https://discord.com/api/webhooks/123/SECRET-TOKEN";

  function scripted(responses: (Response | Error)[]) {
    const calls: { url: string; body: unknown }[] = [];
    const waits: number[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(String(init.body)) });
      const next = responses.shift();
      if (!next) throw new Error("no more responses");
      if (next instanceof Error) throw next;
      return next;
    }) as unknown as typeof globalThis.fetch;
    const notifier = (format?: "slack") =>
      new WebhookNotifier({
        url: URL_,
        ...(format ? { format } : {}),
        fetch,
        sleep: async (ms) => void waits.push(ms),
        random: () => 0.5,
      });
    return { calls, waits, notifier };
  }

  it("waits Discord's retry_after on 429, then delivers", async () => {
    const { calls, waits, notifier } = scripted([
      new Response(JSON.stringify({ message: "rate limited", retry_after: 1.5, global: false }), {
        status: 429,
      }),
      new Response(null, { status: 204 }),
    ]);
    const n = notifier();
    expect(n.channel).toBe("webhook:discord");
    await n.notify(sampleAlert());
    expect(calls).toHaveLength(2);
    expect(waits).toEqual([1500]);
    expect(calls[0]?.body).toMatchObject({
      embeds: [expect.objectContaining({ title: expect.any(String) })],
    });
  });

  it("uses the Retry-After header when the body has no retry_after", async () => {
    const { waits, notifier } = scripted([
      new Response("slow down", { status: 429, headers: { "retry-after": "3" } }),
      new Response("ok", { status: 200 }),
    ]);
    await notifier("slack").notify(sampleAlert());
    expect(waits).toEqual([3000]);
  });

  it("backs off exponentially on 5xx and network errors, and gives up after the attempts", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const { calls, waits, notifier } = scripted([
      new Response("", { status: 502 }),
      refused,
      new Response("", { status: 503 }),
      new Response("", { status: 500 }),
      new Response("", { status: 500 }),
    ]);
    const error = await notifier()
      .notify(sampleAlert())
      .catch((e: unknown) => e);
    expect(calls).toHaveLength(5);
    // Full jitter with random() = 0.5: half of 1 s, 2 s, 4 s, 8 s.
    expect(waits).toEqual([500, 1000, 2000, 4000]);
    expect(error).toBeInstanceOf(AlertDeliveryError);
    expect((error as AlertDeliveryError).message).toBe(
      "the discord webhook answered 500; gave up after 5 attempts",
    );
    expect((error as AlertDeliveryError).retryable).toBe(true);
  });

  it("fails at once on another 4xx, without ever showing the URL", async () => {
    const echo = `{"message": "Unknown Webhook", "url": "${URL_}", "path": "/api/webhooks/123/SECRET-TOKEN"}`;
    const { calls, notifier } = scripted([new Response(echo, { status: 404 })]);
    const error = (await notifier()
      .notify(sampleAlert())
      .catch((e: unknown) => e)) as AlertDeliveryError;
    expect(calls).toHaveLength(1);
    expect(error.where).toBe("ALERT_WEBHOOK_URL");
    expect(error.message).toContain("answered 404");
    expect(error.message).toContain("Unknown Webhook");
    expect(error.toLine()).not.toContain("SECRET-TOKEN");
    expect(error.retryable).toBe(false);
  });

  it("names a network failure by its code, not its message", async () => {
    const failure = Object.assign(new TypeError(`fetch failed for ${URL_}`), {
      cause: { code: "ENOTFOUND" },
    });
    const { notifier } = scripted([failure, failure, failure, failure, failure]);
    const error = (await notifier()
      .notify(sampleAlert())
      .catch((e: unknown) => e)) as AlertDeliveryError;
    expect(error.message).toBe(
      "the discord webhook could not be reached (ENOTFOUND); gave up after 5 attempts",
    );
  });
});

describe("EventBridgeNotifier", () => {
  function client(answer: unknown) {
    const commands: PutEventsCommand[] = [];
    return {
      commands,
      client: {
        send: async (command: PutEventsCommand) => {
          commands.push(command);
          if (answer instanceof Error) throw answer;
          return answer;
        },
      } as never,
    };
  }

  it("puts one entry with source slotsync, detail-type slotsync.wal-alert and the alert as detail", async () => {
    const fake = client({ FailedEntryCount: 0, Entries: [{ EventId: "1" }] });
    await new EventBridgeNotifier({ client: fake.client, eventBus: "ops" }).notify(sampleAlert());
    const entry = fake.commands[0]?.input.Entries?.[0];
    expect(fake.commands[0]).toBeInstanceOf(PutEventsCommand);
    expect(entry).toMatchObject({
      EventBusName: "ops",
      Source: "slotsync",
      DetailType: "slotsync.wal-alert",
    });
    expect(JSON.parse(entry?.Detail ?? "{}")).toMatchObject({
      slot: "slotsync_app",
      level: "critical",
      previousLevel: "warning",
      retainedBytes: 13 * 1024 ** 3,
      thresholds: { warningBytes: 12 * 1024 ** 3, criticalBytes: 13 * 1024 ** 3, source: "environment" },
      recovery: "check the poller <now> & then",
    });
  });

  it("fails when EventBridge refuses the entry or the call", async () => {
    const refused = client({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: "NotFound", ErrorMessage: "no bus" }],
    });
    await expect(
      new EventBridgeNotifier({ client: refused.client, eventBus: "gone" }).notify(sampleAlert()),
    ).rejects.toThrow('EventBridge refused the event on bus "gone": NotFound no bus');
    const denied = client(Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }));
    await expect(
      new EventBridgeNotifier({ client: denied.client, eventBus: "ops" }).notify(sampleAlert()),
    ).rejects.toThrow(AlertDeliveryError);
  });
});
