import { RemovalPolicy, Token } from "aws-cdk-lib";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { urlCarriesCredentials } from "../lib/security";

/**
 * Names that hold credentials and therefore belong in the Secrets Manager secret, never in a plain
 * environment variable (they would show in the template, the console and `GetFunctionConfiguration`).
 */
export const SECRET_ENV_NAME =
  /^(PG_URL|ALERT_WEBHOOK_URL|WEBHOOK_URL|.*_SECRET|.*_TOKEN|.*_PASSWORD|.*_API_KEY(_ID)?|.*_BEARER_AUTH)$/;

/** The JSON keys the secret may hold (read by `lambdas/environment.ts` at cold start). */
export const SECRET_KEYS = [
  "PG_URL",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "ELASTICSEARCH_URL",
  "ELASTICSEARCH_CLOUD_ID",
  "ELASTICSEARCH_API_KEY_ID",
  "ELASTICSEARCH_API_KEY",
  "ELASTICSEARCH_USER",
  "ELASTICSEARCH_PASSWORD",
  "ALERT_WEBHOOK_URL",
  "WEBHOOK_URL",
  "WEBHOOK_SECRET",
] as const;

/**
 * Throws when a plain environment variable would carry a secret: a secret-looking name, or a URL with
 * a user or password or a signed query (a presigned S3 URL) in it. The message names the variable, never the value.
 */
export function assertNoSecretInEnvironment(environment: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(environment)) {
    if (SECRET_ENV_NAME.test(name)) {
      throw new Error(
        `${name} is a secret: put it in the Secrets Manager secret (SLOTSYNC_SECRET_ARN), not in the environment`,
      );
    }
    if (
      !Token.isUnresolved(value) &&
      /^[a-z][a-z0-9+.-]*:\/\//i.test(value) &&
      urlCarriesCredentials(value)
    ) {
      throw new Error(
        `${name} carries credentials in its URL (a user and password, or a signed query such as X-Amz-Signature, sig= or token=): put the URL in the Secrets Manager secret instead, or leave them out${name === "SCHEMA_URL" ? " (for a schema in S3 use s3://bucket/key: the functions are granted s3:GetObject, so no presigned URL is needed)" : ""}`,
      );
    }
  }
}

/** How to find an existing secret by ARN. */
export interface SecretReference {
  /** The secret's ARN; the complete one (with the 6-character suffix) gives the narrowest grant. */
  readonly arn: string;
  /** The customer managed KMS key that encrypts it, if any (the functions then need kms:Decrypt). */
  readonly encryptionKey?: IKey;
}

/**
 * Imports a secret by ARN. A complete ARN ends in `-` and six characters (`…:secret:name-AbCdEf`); a
 * partial one (no suffix) is granted with a `-??????` wildcard.
 */
export function importSecret(scope: Construct, id: string, ref: SecretReference): ISecret {
  const complete = Token.isUnresolved(ref.arn) || /:secret:.+-[A-Za-z0-9]{6}$/.test(ref.arn);
  return Secret.fromSecretAttributes(scope, id, {
    ...(complete ? { secretCompleteArn: ref.arn } : { secretPartialArn: ref.arn }),
    ...(ref.encryptionKey ? { encryptionKey: ref.encryptionKey } : {}),
  });
}

/**
 * The placeholder the created secret starts with: the keys of the first release, empty. It is
 * frozen, never derived from {@link SECRET_KEYS}: any change to a `GenerateSecretString` makes
 * CloudFormation generate a new value on the next deploy, overwriting what the operator stored.
 * Keys added later are simply added to the JSON by the operator.
 */
export const SECRET_PLACEHOLDER_TEMPLATE =
  '{"PG_URL":"","UPSTASH_REDIS_REST_URL":"","UPSTASH_REDIS_REST_TOKEN":"","ELASTICSEARCH_URL":"","ELASTICSEARCH_CLOUD_ID":"","ELASTICSEARCH_API_KEY_ID":"","ELASTICSEARCH_API_KEY":"","ELASTICSEARCH_USER":"","ELASTICSEARCH_PASSWORD":"","ALERT_WEBHOOK_URL":"","WEBHOOK_URL":"","WEBHOOK_SECRET":""}';

/**
 * Creates the secret from the frozen {@link SECRET_PLACEHOLDER_TEMPLATE}, for the operator to fill
 * with `aws secretsmanager put-secret-value`. Kept when the stack is deleted or the resource
 * replaced unless `removalPolicy` says otherwise: it holds credentials issued elsewhere.
 */
export function createSecret(
  scope: Construct,
  id: string,
  removalPolicy: RemovalPolicy = RemovalPolicy.RETAIN,
): Secret {
  return new Secret(scope, id, {
    description:
      "slotsync: JSON object of secret settings (PG_URL, UPSTASH_REDIS_REST_TOKEN, ELASTICSEARCH_*, ALERT_WEBHOOK_URL)",
    generateSecretString: {
      secretStringTemplate: SECRET_PLACEHOLDER_TEMPLATE,
      // CloudFormation needs a generated key next to a template; nothing reads this one.
      generateStringKey: "SLOTSYNC_GENERATED",
      excludePunctuation: true,
    },
    removalPolicy,
  });
}
