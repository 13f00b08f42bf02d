import { RemovalPolicy } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { Key } from "aws-cdk-lib/aws-kms";
import { describe, expect, it } from "vitest";
import {
  assertNoSecretInEnvironment,
  importSecret,
  SECRET_KEYS,
  SECRET_PLACEHOLDER_TEMPLATE,
} from "../../../infra/construct";
import { actionsOf, buildSync, fixtureSchema, functionProps, resourcesOf, roleStatements } from "./support";

/** Written independently of the construct's own pattern: the names the brief calls secret. */
const SECRET_NAME = [/^PG_URL$/, /_TOKEN$/, /_PASSWORD$/, /_API_KEY$/, /^ALERT_WEBHOOK_URL$/];
/** `scheme://user:password@host`: a credential inside a URL value. */
const CREDENTIAL_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

/** Every environment variable of every Lambda function in the template. */
function lambdaEnvironments(template: Template): Array<[string, Record<string, unknown>]> {
  return Object.entries(resourcesOf(template, "AWS::Lambda::Function")).map(([id, r]) => [
    id,
    ((r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>,
  ]);
}

describe("secrets never reach a plain environment variable", () => {
  const configurations = {
    default: buildSync().template,
    "every option": buildSync({
      schema: fixtureSchema(),
      upstashRedisRestUrl: "https://eu1-example.upstash.io",
      elasticsearchUrl: "https://search.example.com:9243",
      searchEngine: { kind: "aws-opensearch", domainArn: "arn:aws:es:eu-west-1:111122223333:domain/search" },
      alarmEmail: "ops@example.com",
      environment: { ELASTICSEARCH_CHUNK_SIZE: "1000", REINDEX_GRACE_MINUTES: "30" },
    }).template,
  };

  for (const [name, template] of Object.entries(configurations)) {
    it(`has no secret-looking variable in any Lambda function (${name})`, () => {
      const envs = lambdaEnvironments(template);
      expect(envs).toHaveLength(4);
      for (const [id, variables] of envs) {
        expect(Object.keys(variables).length, id).toBeGreaterThan(5);
        for (const [key, value] of Object.entries(variables)) {
          expect(
            SECRET_NAME.some((p) => p.test(key)),
            `${id} has ${key}`,
          ).toBe(false);
          expect(CREDENTIAL_URL.test(JSON.stringify(value)), `${id} ${key} holds a credential URL`).toBe(
            false,
          );
        }
        expect(variables.SLOTSYNC_SECRET_ARN, id).toBeDefined();
      }
    });
  }

  it("passes non-secret settings as plain variables", () => {
    const env = functionProps(configurations["every option"], "consumer").Environment.Variables;
    expect(env.UPSTASH_REDIS_REST_URL).toBe("https://eu1-example.upstash.io");
    expect(env.ELASTICSEARCH_URL).toBe("https://search.example.com:9243");
    expect(env.ELASTICSEARCH_CHUNK_SIZE).toBe("1000");
  });

  it("refuses a secret name or a URL with credentials among the extra variables", () => {
    for (const name of [
      "PG_URL",
      "UPSTASH_REDIS_REST_TOKEN",
      "ELASTICSEARCH_PASSWORD",
      "ELASTICSEARCH_API_KEY",
    ]) {
      expect(() => buildSync({ environment: { [name]: "x" } }), name).toThrow(
        new RegExp(`${name} is a secret`),
      );
    }
    expect(() => buildSync({ environment: { ALERT_WEBHOOK_URL: "https://hooks.example.com/T/x" } })).toThrow(
      /ALERT_WEBHOOK_URL is a secret/,
    );
    expect(() => buildSync({ elasticsearchUrl: "https://elastic:hunter2@search.example.com" })).toThrow(
      /ELASTICSEARCH_URL carries credentials/,
    );
    expect(() =>
      assertNoSecretInEnvironment({ SCHEMA_URL: "https://u:p@config.example.com/s.json" }),
    ).toThrow(/SCHEMA_URL/);
  });

  it("refuses signed URLs (presigned S3, SAS, token=) as plain variables, naming the variable, never the value", () => {
    for (const url of [
      "https://b.s3.amazonaws.com/s.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef01",
      "https://acct.blob.core.windows.net/c/s.json?sv=2022-11-02&sig=deadbeef01",
      "https://config.example.com/s.json?token=deadbeef01",
    ]) {
      let message = "";
      try {
        assertNoSecretInEnvironment({ SCHEMA_URL: url });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^SCHEMA_URL carries credentials in its URL .* use s3:\/\/bucket\/key/);
      expect(message).not.toContain("deadbeef01");
    }
    expect(() =>
      assertNoSecretInEnvironment({ SCHEMA_URL: "https://config.example.com/s.json?v=3" }),
    ).not.toThrow();
  });

  it("never echoes the refused value", () => {
    let message = "";
    try {
      assertNoSecretInEnvironment({ ELASTICSEARCH_URL: "https://elastic:hunter2@search.example.com" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("ELASTICSEARCH_URL");
    expect(message).not.toContain("hunter2");
  });
});

describe("the secret", () => {
  it("is created with every known key present and empty, and no value in the template", () => {
    const { template } = buildSync();
    const secrets = Object.values(resourcesOf(template, "AWS::SecretsManager::Secret"));
    expect(secrets).toHaveLength(1);
    const props = secrets[0]?.Properties as {
      SecretString?: string;
      GenerateSecretString: { SecretStringTemplate: string; GenerateStringKey: string };
    };
    expect(props.SecretString).toBeUndefined();
    const keys = JSON.parse(props.GenerateSecretString.SecretStringTemplate) as Record<string, string>;
    expect(Object.keys(keys).sort()).toEqual([...SECRET_KEYS].sort());
    expect(Object.values(keys).every((v) => v === "")).toBe(true);
  });

  it("is readable by every function and only through GetSecretValue/DescribeSecret", () => {
    const { template } = buildSync();
    const secretId = Object.keys(resourcesOf(template, "AWS::SecretsManager::Secret"))[0];
    for (const role of ["poller", "consumer", "bootstrap", "monitor"]) {
      const read = roleStatements(template, role).filter((s) =>
        actionsOf(s).some((a) => a.startsWith("secretsmanager:")),
      );
      expect(read).toHaveLength(1);
      expect(actionsOf(read[0] ?? {})).toEqual([
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
      ]);
      expect(read[0]?.Resource).toEqual({ Ref: secretId });
    }
  });

  it("can be an existing one: exact ARN, or the -?????? suffix for a partial ARN, plus its KMS key", () => {
    const complete = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slotsync-AbCdEf";
    const partial = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slotsync";
    const keyArn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const a = buildSync({}, (stack) => ({
      secret: importSecret(stack, "S", { arn: complete, encryptionKey: Key.fromKeyArn(stack, "K", keyArn) }),
    })).template;
    expect(Object.keys(resourcesOf(a, "AWS::SecretsManager::Secret"))).toHaveLength(0);
    const statements = roleStatements(a, "poller");
    expect(statements.find((s) => actionsOf(s).includes("secretsmanager:GetSecretValue"))?.Resource).toBe(
      complete,
    );
    expect(statements.find((s) => actionsOf(s).includes("kms:Decrypt"))?.Resource).toBe(keyArn);
    expect(functionProps(a, "poller").Environment.Variables.SLOTSYNC_SECRET_ARN).toBe(complete);

    const b = buildSync({}, (stack) => ({ secret: importSecret(stack, "S", { arn: partial }) })).template;
    const read = roleStatements(b, "poller").find((s) =>
      actionsOf(s).includes("secretsmanager:GetSecretValue"),
    );
    expect(read?.Resource).toBe(`${partial}-??????`);
  });
});

describe("the created secret survives upgrades and deletes", () => {
  const secretOf = (template: Template) => {
    const entries = Object.values(
      template.findResources("AWS::SecretsManager::Secret") as Record<
        string,
        {
          Properties: { GenerateSecretString: Record<string, unknown> };
          DeletionPolicy?: string;
          UpdateReplacePolicy?: string;
        }
      >,
    );
    expect(entries).toHaveLength(1);
    return entries[0] as NonNullable<(typeof entries)[0]>;
  };

  it("starts from a frozen placeholder, not one built from SECRET_KEYS (a changed template regenerates the value)", () => {
    const secret = secretOf(buildSync().template);
    // The literal of the first release: a change here overwrites every operator's stored settings.
    expect(secret.Properties.GenerateSecretString).toEqual({
      SecretStringTemplate:
        '{"PG_URL":"","UPSTASH_REDIS_REST_URL":"","UPSTASH_REDIS_REST_TOKEN":"","ELASTICSEARCH_URL":"","ELASTICSEARCH_CLOUD_ID":"","ELASTICSEARCH_API_KEY_ID":"","ELASTICSEARCH_API_KEY":"","ELASTICSEARCH_USER":"","ELASTICSEARCH_PASSWORD":"","ALERT_WEBHOOK_URL":"","WEBHOOK_URL":"","WEBHOOK_SECRET":""}',
      GenerateStringKey: "SLOTSYNC_GENERATED",
      ExcludePunctuation: true,
    });
    expect(SECRET_PLACEHOLDER_TEMPLATE).toBe(secret.Properties.GenerateSecretString.SecretStringTemplate);
  });

  it("keeps the secret and both queues when the stack is deleted, unless told otherwise", () => {
    const kept = buildSync().template;
    expect(secretOf(kept)).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    for (const queue of Object.values(kept.findResources("AWS::SQS::Queue")))
      expect(queue).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    const dropped = buildSync({
      secretRemovalPolicy: RemovalPolicy.DESTROY,
      queueRemovalPolicy: RemovalPolicy.DESTROY,
    }).template;
    expect(secretOf(dropped).DeletionPolicy).toBe("Delete");
    for (const queue of Object.values(dropped.findResources("AWS::SQS::Queue")))
      expect(queue).toMatchObject({ DeletionPolicy: "Delete" });
  });
});

describe("tags", () => {
  it("tags every resource that takes tags", () => {
    const { template } = buildSync({ tags: { team: "search", "cost-center": "42" } });
    const tagged = new Set<string>();
    for (const r of Object.values(
      template.toJSON().Resources as Record<string, { Type: string; Properties?: { Tags?: unknown } }>,
    )) {
      const tags = r.Properties?.Tags;
      if (tags === undefined) continue;
      tagged.add(r.Type);
      const text = JSON.stringify(tags);
      expect(text, r.Type).toContain('"team"');
      expect(text, r.Type).toContain('"cost-center"');
    }
    for (const type of [
      "AWS::Lambda::Function",
      "AWS::SQS::Queue",
      "AWS::SNS::Topic",
      "AWS::KMS::Key",
      "AWS::SecretsManager::Secret",
      "AWS::Logs::LogGroup",
      "AWS::IAM::Role",
      "AWS::CloudWatch::Alarm",
    ])
      expect(tagged, type).toContain(type);
  });
});
