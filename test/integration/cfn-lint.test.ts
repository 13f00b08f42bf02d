import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../infra/create-app";
import { run } from "../../tools/services/process";
import { ensureCfnLint } from "../support/cfn-lint";
import { FIXTURE_ENTRIES, FIXTURE_SCHEMA, NO_BUNDLING } from "../unit/infra/support";

/** The configurations the issue names, as an operator would pass them with `-c key=value`. */
const CONFIGURATIONS: Record<string, Record<string, string>> = {
  plain: {},
  "vpc-opensearch-email": {
    schemaFile: FIXTURE_SCHEMA,
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    searchEngine: "aws-opensearch",
    openSearchArn: "arn:aws:es:eu-west-1:111122223333:domain/search",
    alarmEmail: "ops@example.com",
    criticalAlarmEmail: "oncall@example.com",
    pollerReservedConcurrency: "true",
    tags: "team=search",
  },
  "imported-secret-serverless": {
    schemaUrl: "s3://config-bucket/slotsync/schema.json",
    secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slotsync-AbCdEf",
    secretKmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    searchEngine: "aws-opensearch-serverless",
    openSearchArn: "arn:aws:aoss:eu-west-1:111122223333:collection/abc123",
    disabledAlarms: "SlotLag",
    queueRemovalPolicy: "destroy",
  },
};

let dir: string;
let cfnLint: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slotsync-cfn-lint-"));
  cfnLint = await ensureCfnLint();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("cfn-lint on the synthesized templates", () => {
  it.each(Object.entries(CONFIGURATIONS))("passes for %s", async (name, context) => {
    const { stack } = createApp({
      context: { ...NO_BUNDLING, ...context },
      entries: FIXTURE_ENTRIES,
      builtinCloudFormationValidation: false,
    });
    const file = join(dir, `${name}.json`);
    const template = Template.fromStack(stack).toJSON();
    expect(Object.keys(template.Resources).length).toBeGreaterThan(20);
    writeFileSync(file, JSON.stringify(template, null, 1));
    // --regions: a real region's resource specification; the stack itself is region-agnostic.
    // W3005: aws-cdk-lib's Function adds a DependsOn on its role next to the GetAtt of the role's
    // ARN; the redundancy is the library's, harmless, and not ours to change.
    const args = ["--regions", "eu-west-1", "--ignore-checks", "W3005", "--format", "parseable", "--", file];
    const out = await run(cfnLint, args).catch((error: Error) => error.message);
    expect(out.trim()).toBe("");
  });

  it("reports a template error (the check is live)", async () => {
    const file = join(dir, "broken.json");
    writeFileSync(
      file,
      JSON.stringify({
        Resources: { Q: { Type: "AWS::SQS::Queue", Properties: { RetentionPeriodDays: 3 } } },
      }),
    );
    const out = await run(cfnLint, ["--regions", "eu-west-1", "--format", "parseable", "--", file]).catch(
      (error: Error) => error.message,
    );
    expect(out).toMatch(/E3002/);
  });
});
