import { readFileSync } from "node:fs";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { ALARM_IDS } from "../../../infra/construct";
import { CONTEXT_KEYS } from "../../../infra/context";
import { createApp } from "../../../infra/create-app";
import { FIXTURE_ENTRIES, NO_BUNDLING } from "../infra/support";

const GUIDE = readFileSync(`${process.cwd()}/docs/deploy/aws.md`, "utf8");

/** Every distinct first capture group of `pattern` in the guide. */
function named(pattern: RegExp): string[] {
  return [...new Set([...GUIDE.matchAll(pattern)].map((m) => m[1] ?? ""))];
}

/** The stack's outputs when every optional output is produced (a VPC, a critical topic). */
function allOutputs(): string[] {
  const { stack } = createApp({
    context: {
      ...NO_BUNDLING,
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: "subnet-0123456789abcdef0",
      criticalAlarmEmail: "oncall@example.com",
    },
    entries: FIXTURE_ENTRIES,
    builtinCloudFormationValidation: false,
  });
  return Object.keys(Template.fromStack(stack).toJSON().Outputs ?? {});
}

describe("docs/deploy/aws.md matches the code", () => {
  it("names only context keys the app reads", () => {
    const keys = named(/-c ([A-Za-z]+)=/g);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(Object.keys(CONTEXT_KEYS), `-c ${key}`).toContain(key);
  });

  it("names only outputs the stack has", () => {
    const outputs = allOutputs();
    const used = [...named(/OutputKey=='([A-Za-z]+)'/g), ...named(/output `([A-Za-z]+)`/g)];
    expect(used).toContain("SecretArn");
    for (const name of used) expect(outputs, name).toContain(name);
    for (const name of named(/`([A-Z][A-Za-z]+(?:Arn|Url|Name|Id))`/g)) {
      if (/^(UPSTASH|PG|ELASTICSEARCH)/.test(name)) continue;
      expect(outputs, name).toContain(name);
    }
  });

  it("names alarms by the prefix CloudFormation gives them", () => {
    const alarms = named(/Slotsync-SyncAlarms([A-Za-z]+)/g);
    expect(alarms.length).toBeGreaterThan(0);
    for (const id of alarms) expect(ALARM_IDS as readonly string[], id).toContain(id);
    const { stack } = createApp({
      context: NO_BUNDLING,
      entries: FIXTURE_ENTRIES,
      builtinCloudFormationValidation: false,
    });
    const ids = Object.keys(Template.fromStack(stack).findResources("AWS::CloudWatch::Alarm"));
    for (const id of alarms)
      expect(
        ids.some((logical) => logical.startsWith(`SyncAlarms${id}`)),
        id,
      ).toBe(true);
  });

  it("uses only bootstrap actions the function knows", () => {
    for (const action of named(/"action":"([a-z]+)"/g))
      expect(["start", "resume", "status", "reset"]).toContain(action);
  });
});
