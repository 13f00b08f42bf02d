import { Client, type ClientOptions } from "@elastic/elasticsearch";
import { redactText } from "../../security";
import { SinkError } from "../errors";
import type { ElasticsearchAuth, ElasticsearchSinkConfig, ResolvedTuning } from "./config";
import {
  type ClientSend,
  clientTransportFailure,
  type EngineRequest,
  type EngineResponse,
  type EngineTransport,
  sendThroughClient,
} from "./transport";

/**
 * The Elasticsearch 8/9 transport, on `@elastic/elasticsearch` v8 (v9 sends `compatible-with=9`,
 * which Elasticsearch 8 refuses; v8's `compatible-with=8` is accepted by 8 and 9).
 *
 * The client's own retries and sniffing are off: `write` retries with its own policy and
 * deadline, and sniffing would replace the configured URL with node addresses a Lambda in
 * another network (or behind a load balancer, or on Elastic Cloud) cannot reach.
 */
export function createElasticsearchTransport(
  config: ElasticsearchSinkConfig,
  tuning: ResolvedTuning,
): EngineTransport {
  const options: ClientOptions = {
    maxRetries: 0,
    requestTimeout: tuning.requestTimeoutMs,
    compression: tuning.compression,
    sniffOnStart: false,
    sniffInterval: false,
    sniffOnConnectionFault: false,
    name: "slotsync",
  };
  if (config.cloudId) options.cloud = { id: config.cloudId };
  else if (config.node !== undefined)
    options.nodes = typeof config.node === "string" ? [config.node] : [...config.node];
  if (config.auth) options.auth = clientAuth(config.auth);
  if (config.caCertificate) options.tls = { ca: config.caCertificate };
  const client = new Client(options);
  // Both clients' overloaded transport.request, narrowed to the call sendThroughClient makes.
  const send = client.transport.request.bind(client.transport) as unknown as ClientSend;
  const secrets = secretsOf(config.auth);

  return {
    engine: "elasticsearch",
    secrets,
    request: (request: EngineRequest): Promise<EngineResponse> =>
      sendThroughClient(send, request, (err) => translateError(err, secrets), { meta: true }),
    close: () => client.close(),
  };
}

function clientAuth(auth: ElasticsearchAuth): NonNullable<ClientOptions["auth"]> {
  switch (auth.type) {
    case "apiKey":
      return "encoded" in auth ? { apiKey: auth.encoded } : { apiKey: { id: auth.id, api_key: auth.secret } };
    case "basic":
      return { username: auth.username, password: auth.password };
    case "bearer":
      return { bearer: auth.token };
  }
}

/** Every form in which the configured credentials could show up in a message. */
function secretsOf(auth: ElasticsearchAuth | undefined): string[] {
  if (!auth) return [];
  switch (auth.type) {
    case "apiKey":
      return "encoded" in auth ? [auth.encoded] : [auth.secret, `${auth.id}:${auth.secret}`];
    case "basic":
      return [auth.password, `${auth.username}:${auth.password}`];
    case "bearer":
      return [auth.token];
  }
}

/** Maps the client's errors: no response -> `TransportFailure`; a setup problem -> `SinkError`. */
function translateError(err: unknown, secrets: readonly string[]): Error {
  const name = err instanceof Error ? err.name : "";
  const message = redactText(err instanceof Error ? err.message : String(err), secrets);
  const failure = clientTransportFailure(name, message);
  if (failure) return failure;
  switch (name) {
    case "ProductNotSupportedError":
      return new SinkError("the server is not Elasticsearch (the product check failed)", {
        fix: "for OpenSearch set engine to opensearch (OPENSEARCH=true); otherwise check ELASTICSEARCH_URL",
        errorType: "product_not_supported",
      });
    default:
      // Not the client's error object as cause: its metadata holds request headers and URLs.
      return new SinkError(`Elasticsearch client error: ${message}`, {
        cause: new Error(message),
        fix: "check the Elasticsearch settings (URL, Cloud ID, CA certificate)",
      });
  }
}
