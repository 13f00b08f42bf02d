import { Client, type ClientOptions } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws";
import { redactText } from "../../security";
import { SinkError } from "../errors";
import type { AwsCredentials, OpenSearchAuth, OpenSearchSinkConfig, ResolvedTuning } from "./config";
import {
  type ClientSend,
  clientTransportFailure,
  type EngineRequest,
  type EngineResponse,
  type EngineTransport,
  sendThroughClient,
} from "./transport";

/**
 * The OpenSearch 2 transport, on `@opensearch-project/opensearch`: basic auth for self-managed
 * clusters, SigV4 for Amazon OpenSearch Service (`es`) and Serverless (`aoss`).
 *
 * Client retries and sniffing are off for the same reasons as for Elasticsearch; sniffing is not
 * even possible on the AWS services.
 */
export function createOpenSearchTransport(
  config: OpenSearchSinkConfig,
  tuning: ResolvedTuning,
): EngineTransport {
  const options: ClientOptions = {
    nodes: typeof config.node === "string" ? [config.node] : [...config.node],
    maxRetries: 0,
    requestTimeout: tuning.requestTimeoutMs,
    sniffOnStart: false,
    sniffInterval: false,
    sniffOnConnectionFault: false,
  };
  if (tuning.compression) options.compression = "gzip";
  if (config.caCertificate) options.ssl = { ca: config.caCertificate };
  const auth = config.auth;
  if (auth?.type === "basic") options.auth = { username: auth.username, password: auth.password };
  if (auth?.type === "awsSigV4") {
    Object.assign(
      options,
      AwsSigv4Signer({
        region: auth.region,
        service: auth.service ?? "es",
        getCredentials: auth.credentials ?? defaultCredentials(),
      }),
    );
  }
  const client = new Client(options);
  // Both clients' overloaded transport.request, narrowed to the call sendThroughClient makes.
  const send = client.transport.request.bind(client.transport) as unknown as ClientSend;
  const secrets = secretsOf(auth);

  return {
    engine: "opensearch",
    secrets,
    request: (request: EngineRequest): Promise<EngineResponse> =>
      sendThroughClient(send, request, (err) => translateError(err, secrets)),
    close: () => client.close(),
  };
}

/**
 * The AWS SDK's default credential chain (environment, SSO, web identity, ECS/EC2 role; in a
 * Lambda the execution role's environment credentials), loaded on first use so Elasticsearch
 * deployments never load it. `defaultProvider` memoizes and refreshes credentials before they expire.
 */
function defaultCredentials(): () => Promise<AwsCredentials> {
  let provider: (() => Promise<AwsCredentials>) | undefined;
  return async () => {
    if (!provider) {
      const { defaultProvider } = await import("@aws-sdk/credential-provider-node");
      provider = defaultProvider();
    }
    return provider();
  };
}

function secretsOf(auth: OpenSearchAuth | undefined): string[] {
  if (auth?.type === "basic") return [auth.password, `${auth.username}:${auth.password}`];
  return [];
}

/** Maps the client's errors: no response -> `TransportFailure`; a setup problem -> `SinkError`. */
function translateError(err: unknown, secrets: readonly string[]): Error {
  const name = err instanceof Error ? err.name : "";
  const message = redactText(err instanceof Error ? err.message : String(err), secrets);
  const failure = clientTransportFailure(name, message);
  if (failure) return failure;
  switch (name) {
    case "AwsSigv4SignerError":
    case "CredentialsProviderError":
      return new SinkError(`no AWS credentials to sign OpenSearch requests: ${message}`, {
        errorType: "aws_credentials",
        fix: "run with an AWS role (the Lambda execution role) or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and set the region",
      });
    default:
      // Not the client's error object as cause: its metadata holds request headers and URLs.
      return new SinkError(`OpenSearch client error: ${message}`, {
        cause: new Error(message),
        fix: "check the OpenSearch settings (URL, CA certificate, AWS region and service)",
      });
  }
}
