import { SECRET_KEYS_VARIABLE } from "../lib/schema";

/**
 * The environment of a handler, with secrets merged in. In AWS the stack passes
 * `SLOTSYNC_SECRET_ARN`: a Secrets Manager secret holding a JSON object of variables (PG_URL,
 * ELASTICSEARCH_API_KEY, UPSTASH_REDIS_REST_TOKEN, ALERT_WEBHOOK_URL...), read once per cold start,
 * so no secret is ever a plain environment value in the template.
 */
export async function loadEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Promise<Record<string, string | undefined>> {
  const arn = env.SLOTSYNC_SECRET_ARN;
  if (!arn) return { ...env };
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  try {
    const secret = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    const values = JSON.parse(secret.SecretString ?? "{}") as Record<string, unknown>;
    const merged: Record<string, string | undefined> = { ...env };
    for (const [key, value] of Object.entries(values))
      if (typeof value === "string" && value) merged[key] = value;
    // Whatever the secret holds stays out of the schema's ${NAME} references, whatever its name.
    merged[SECRET_KEYS_VARIABLE] = Object.keys(values).join(",");
    return merged;
  } catch (error) {
    throw new Error(
      `cannot read the secret named by SLOTSYNC_SECRET_ARN (${(error as Error).name}): grant the function secretsmanager:GetSecretValue on it`,
    );
  } finally {
    client.destroy();
  }
}
