import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileCheckpointStore } from "../../lib/checkpoint";
import {
  type AlertNotifier,
  checkWal,
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  EventBridgeNotifier,
  WebhookNotifier,
} from "../../lib/monitor";
import { type HttpListener, startHttpListener } from "../support/http-listener";
import { createTestDatabase, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

// Delivery of alerts to real receivers: a loopback HTTP listener speaking as Discord and Slack
// (including their rate limiting and outages) and EventBridge on moto, routed by a rule to a moto
// SQS queue. The slots are the runbook's: inactive logical slots on the shared server behind which
// WAL piles up. The shared server runs with an unlimited max_slot_wal_keep_size and other suites
// write WAL too, so the critical threshold is 1 byte: any retained WAL crosses it.

const SUFFIX = randomBytes(4).toString("hex");
const DEADLINE_MS = 20_000;
const slots = {
  discord: `test_wal_monitor_d_${SUFFIX}`,
  slack: `test_wal_monitor_s_${SUFFIX}`,
  events: `test_wal_monitor_e_${SUFFIX}`,
};

let db: TestDatabase;
let listener: HttpListener;
let stateDir: string;
let store: FileCheckpointStore;

beforeAll(async () => {
  db = await createTestDatabase("monitor_delivery");
  await db.client.query(
    "CREATE TABLE wal_monitor_test (id bigserial PRIMARY KEY, payload text, created_at timestamptz DEFAULT now())",
  );
  await db.client.query(
    "INSERT INTO wal_monitor_test (payload) SELECT md5(random()::text) FROM generate_series(1, 20000)",
  );
  // pgoutput, as in the runbook: the monitor watches every slot, not only wal2json ones.
  for (const slot of Object.values(slots)) {
    await db.client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  }
  await db.client.query(
    "INSERT INTO wal_monitor_test (payload) SELECT md5(random()::text) FROM generate_series(1, 20000)",
  );
  listener = await startHttpListener();
  stateDir = await mkdtemp(join(tmpdir(), "slotsync-monitor-state-"));
  store = new FileCheckpointStore({ dir: stateDir });
});

afterAll(async () => {
  await db?.client.query(
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ANY($1)",
    [Object.values(slots)],
  );
  await db?.drop();
  await listener?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function check(slot: string, notifiers: AlertNotifier[]) {
  return checkWal({ db: db.client, store, notifiers }, { include: (s) => s === slot, criticalBytes: 1 });
}

describe("webhook delivery to a loopback receiver", () => {
  it("posts Discord's format, waiting the retry_after of a 429 before trying again", async () => {
    const path = `/api/webhooks/42/${SUFFIX}`;
    listener.respondWith({
      status: 429,
      body: { message: "You are being rate limited.", retry_after: 0.05, global: false },
    });
    const notifier = new WebhookNotifier({ url: `${listener.url}${path}`, format: "discord" });
    const report = await check(slots.discord, [notifier]);

    expect(report.slots.map((s) => [s.name, s.level, s.active, s.plugin])).toEqual([
      [slots.discord, "critical", false, "pgoutput"],
    ]);
    expect(report.alerts).toEqual([
      {
        slot: slots.discord,
        kind: "raised",
        level: "critical",
        previousLevel: null,
        delivered: ["webhook:discord"],
        failed: [],
      },
    ]);
    const requests = listener.requests.filter((r) => r.path === path);
    expect(requests).toHaveLength(2);
    expect(requests[1]?.body).toBe(requests[0]?.body);
    expect(requests[1]?.headers["content-type"]).toBe("application/json");
    const body = requests[1]?.json<{
      content: string;
      embeds: {
        title: string;
        description: string;
        color: number;
        fields: { name: string; value: string }[];
      }[];
    }>();
    expect(body?.content).toMatch(
      new RegExp(
        `^\\*\\*CRITICAL\\*\\* slot \`${slots.discord}\`: retained WAL .* is at or above the critical threshold 1 bytes$`,
      ),
    );
    const embed = body?.embeds[0];
    expect(embed?.title).toBe(`slotsync WAL CRITICAL: slot ${slots.discord}`);
    expect(embed?.color).toBe(0xe74c3c);
    // Not slotsync's slot: the advice is about its own consumer.
    expect(embed?.description).toContain(`SELECT pg_drop_replication_slot('${slots.discord}')`);
    expect(embed?.description).toContain("WARNING: max_slot_wal_keep_size is -1 (unlimited)");
    expect(embed?.fields.map((f) => f.name)).toEqual([
      "Retained WAL",
      "wal_status",
      "Active",
      "Safe WAL size",
      "Confirmed-flush lag",
      "Thresholds",
    ]);

    // The file store keeps the monitor's own fields of the alert state.
    expect(await store.readAlert(slots.discord, "wal")).toMatchObject({
      level: "critical",
      walLevel: "critical",
      retainedBytes: report.slots[0]?.retainedBytes,
      restartLsn: report.slots[0]?.restartLsn,
    });

    // Checked again at once: same level, inside the reminder window, nothing sent.
    const again = await check(slots.discord, [notifier]);
    expect(again.alerts).toEqual([]);
    expect(listener.requests.filter((r) => r.path === path)).toHaveLength(2);
  });

  it("posts Slack's format, retrying after a 503", async () => {
    const path = `/services/T0/B0/${SUFFIX}`;
    listener.respondWith({ status: 503, body: "upstream unavailable" });
    const notifier = new WebhookNotifier({ url: `${listener.url}${path}`, format: "slack", baseDelayMs: 10 });
    const report = await check(slots.slack, [notifier]);
    expect(report.alerts[0]?.delivered).toEqual(["webhook:slack"]);
    const requests = listener.requests.filter((r) => r.path === path);
    expect(requests).toHaveLength(2);
    const body = requests[1]?.json<{ text: string; blocks: { type: string; text?: { text: string } }[] }>();
    expect(body?.text).toMatch(new RegExp(`^slotsync WAL CRITICAL: slot ${slots.slack}: retained WAL`));
    expect(body?.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(body?.blocks[0]?.text?.text).toBe(`slotsync WAL CRITICAL: slot ${slots.slack}`);
    expect(body?.blocks[1]?.text?.text).toContain("*What to do:*");
  });

  it("reports a receiver that keeps failing, and sends the change again at the next check", async () => {
    const path = `/gone/${SUFFIX}`;
    const slot = slots.slack;
    await store.writeAlert(slot, "wal", {
      level: "ok",
      since: new Date().toISOString(),
      lastNotifiedAt: null,
    });
    listener.respondWith({ status: 404, body: { message: "Unknown Webhook", code: 10015 } });
    const url = `${listener.url}${path}`;
    const failed = await check(slot, [new WebhookNotifier({ url, format: "discord" })]);
    expect(failed.alerts[0]).toMatchObject({ delivered: [], failed: [{ channel: "webhook:discord" }] });
    expect(failed.problems.join("\n")).toContain('answered 404: {"message":"Unknown Webhook"');
    expect(failed.problems.join("\n")).not.toContain(url);
    expect((await store.readAlert(slot, "wal"))?.level).toBe("ok");

    const retried = await check(slot, [new WebhookNotifier({ url, format: "discord" })]);
    expect(retried.alerts[0]).toMatchObject({
      kind: "raised",
      previousLevel: "ok",
      delivered: ["webhook:discord"],
    });
    expect(listener.requests.filter((r) => r.path === path)).toHaveLength(2);
  });
});

describe("EventBridge events (moto), routed by a rule to an SQS queue", () => {
  const { endpoint, region } = getServices().moto;
  const aws = { endpoint, region, credentials: { accessKeyId: "x", secretAccessKey: "x" } };
  const bus = `slotsync-monitor-${SUFFIX}`;
  const rule = `slotsync-monitor-rule-${SUFFIX}`;
  let events: EventBridgeClient;
  let sqs: SQSClient;
  let queueUrl: string | undefined;

  beforeAll(async () => {
    events = new EventBridgeClient(aws);
    sqs = new SQSClient(aws);
    await events.send(new CreateEventBusCommand({ Name: bus }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `slotsync-monitor-${SUFFIX}` }))).QueueUrl;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
    );
    const pattern = {
      source: [EVENT_SOURCE],
      "detail-type": [EVENT_DETAIL_TYPE],
      detail: { level: ["critical", "lost"] },
    };
    await events.send(
      new PutRuleCommand({ Name: rule, EventBusName: bus, EventPattern: JSON.stringify(pattern) }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: bus,
        Targets: [{ Id: "queue", Arn: attrs.Attributes?.QueueArn }],
      }),
    );
  });

  afterAll(async () => {
    await events?.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ["queue"] }));
    await events?.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus }));
    await events?.send(new DeleteEventBusCommand({ Name: bus }));
    if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    events?.destroy();
    sqs?.destroy();
  });

  it("puts a slotsync.wal-alert event with the slot, levels, bytes, thresholds and recovery text", async () => {
    const report = await check(slots.events, [new EventBridgeNotifier({ client: events, eventBus: bus })]);
    expect(report.alerts[0]?.delivered).toEqual([`eventbridge:${bus}`]);

    const received: Message[] = [];
    const deadline = Date.now() + DEADLINE_MS;
    while (received.length === 0 && Date.now() < deadline) {
      const res = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      received.push(...(res.Messages ?? []));
    }
    expect(received).toHaveLength(1);
    const event = JSON.parse(received[0]?.Body ?? "{}") as {
      source: string;
      "detail-type": string;
      detail: Record<string, unknown>;
    };
    expect(event.source).toBe("slotsync");
    expect(event["detail-type"]).toBe("slotsync.wal-alert");
    const slot = report.slots[0];
    expect(event.detail).toMatchObject({
      slot: slots.events,
      isSchemaSlot: false,
      kind: "raised",
      level: "critical",
      previousLevel: null,
      retainedBytes: slot?.retainedBytes,
      walStatus: slot?.walStatus,
      active: false,
      thresholds: { warningBytes: null, criticalBytes: 1, source: "environment" },
      message: expect.stringMatching(/is at or above the critical threshold 1 bytes$/),
      recovery: expect.stringContaining(`pg_drop_replication_slot('${slots.events}')`),
    });
    expect((event.detail.findings as { code: string }[]).map((f) => f.code)).toEqual([
      "retained-critical",
      "keep-size-unlimited",
    ]);
  });
});
