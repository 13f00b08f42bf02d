import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterFile } from "../../lib/cli/sync/dead-letter-file";
import { encodeMessage } from "../../lib/queue";
import { runCli } from "../support/cli";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

/**
 * `slotsync redrive --from-file`: the dead-letter file `slotsync run` writes without a DLQ is
 * replayed into the real queue (ElasticMQ); what was sent leaves the file, the rest stays.
 */
let queues: TestQueues;
let dir: string;
let env: Record<string, string>;

const keysBody = (id: number) =>
  encodeMessage({
    kind: "keys",
    index: "items",
    keys: [[String(id)]],
    lsn: 42n,
    sentAt: "2026-01-01T00:00:00Z",
  });

beforeAll(async () => {
  queues = await createTestQueues("redrive-file");
  dir = mkdtempSync(join(tmpdir(), "slotsync-redrive-file-"));
  const s = getServices();
  env = {
    SQS_QUEUE_URL: queues.queueUrl,
    SQS_ENDPOINT: s.elasticmq.endpoint,
    AWS_REGION: s.elasticmq.region,
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
  };
});

afterAll(async () => {
  await queues?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("slotsync redrive --from-file", () => {
  it("sends the matching letters of the file to the queue and keeps the others in the file", async () => {
    const file = join(dir, "dead-letters.jsonl");
    const write = deadLetterFile(file);
    await write([
      { body: keysBody(7), reason: 'build-failed: plugin "Price" failed on document 7' },
      { body: '{"v":9}', reason: "unknown message version 9" },
      { body: keysBody(8), reason: 'build-failed: plugin "Price" failed on document 8' },
    ]);
    const before = readFileSync(file, "utf8");

    const dry = await runCli(["redrive", "--from-file", file, "--dry-run"], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would move 3 of 3 dead letters back to the queue\n/);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(await queues.drain({ timeoutMs: 1500 })).toEqual([]);

    const moved = await runCli(["redrive", "--from-file", file, "--reason", "build-failed"], { env });
    expect(moved.code).toBe(0);
    expect(moved.stdout).toBe(
      `moved 2 of 3 dead letters back to the queue (reason contains "build-failed")\n  2\tbuild-failed\n1 left in ${file}: their reason did not match\n`,
    );
    expect((await queues.drain({ count: 2, timeoutMs: 5000 })).sort()).toEqual(
      [keysBody(7), keysBody(8)].sort(),
    );
    const left = readFileSync(file, "utf8").trim().split("\n");
    expect(left).toHaveLength(1);
    expect(JSON.parse(left[0] ?? "{}")).toMatchObject({
      body: '{"v":9}',
      reason: "unknown message version 9",
    });
  });

  it("names the line of a file that is not a dead-letter file, and moves nothing", async () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, `${JSON.stringify({ at: "x", reason: "r", body: keysBody(1) })}\nnot json\n`);
    const result = await runCli(["redrive", "--from-file", file], { env });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/line 2 is not a dead letter written by slotsync run/);
    expect(result.stderr).toContain(`${file}:2`);
    expect(await queues.drain({ timeoutMs: 1500 })).toEqual([]);
  });
});
