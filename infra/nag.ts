import { Validations } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IConstruct } from "constructs";
import type { SyncFunctions } from "./functions";
import type { SearchEngine } from "./props";
import type { SyncQueues } from "./queue";

/** What {@link acknowledgeFindings} needs to reach the resources the findings are about. */
export interface NagTargets {
  readonly queues: SyncQueues;
  readonly functions: SyncFunctions;
  readonly secret: ISecret;
  /** Whether the construct created the secret (an imported one is not ours to judge). */
  readonly ownSecret: boolean;
  readonly searchEngine: SearchEngine;
  /** Whether the functions run in a VPC. */
  readonly inVpc: boolean;
  /** The email subscriptions of the alarm topics. */
  readonly emailSubscriptions?: readonly IConstruct[];
}

/** One accepted cdk-nag finding: the rule, the construct it is accepted on, and why. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly scope: IConstruct;
  readonly reason: string;
}

const LAMBDA_RUNTIME =
  "Pinned to nodejs22.x: the code is developed and tested on Node 20/22; nodejs24.x is accepted through the runtime property once tested.";
const TICK =
  "A scheduled tick that fails or is throttled needs no record or redelivery: the next tick does the same work, and the Errors/Throttles alarms report persistent failure.";

/**
 * The cdk-nag (AwsSolutions, Serverless) findings this design accepts, each with its reason, made
 * on the one CloudFormation resource concerned (cdk-nag 3 reads CDK's `Validations` acknowledgements).
 */
export function nagAcknowledgements(t: NagTargets): NagAcknowledgement[] {
  const f = t.functions;
  const list: NagAcknowledgement[] = [];
  const add = (scope: IConstruct, id: string, reason: string) => list.push({ scope, id, reason });
  const resource = (c: IConstruct): IConstruct => c.node.defaultChild ?? c;
  const invokeConfig = (fn: IFunction): IConstruct => fn.node.findChild("EventInvokeConfig");

  if (t.ownSecret) {
    add(
      resource(t.secret),
      "AwsSolutions-SMG4",
      "The secret holds credentials issued by other systems (database URL, search engine key, Upstash token, webhook URL); they are rotated where they are issued and stored with put-secret-value. A Secrets Manager rotation function cannot rotate them.",
    );
  }
  add(
    resource(t.queues.deadLetterQueue),
    "Serverless-SQSRedrivePolicy",
    "This is the dead-letter queue itself; a further DLQ would only hide failures. Its messages stay 14 days and the DeadLetterQueueNotEmpty alarm fires on the first one.",
  );
  for (const fn of [f.poller, f.consumer, f.bootstrap, f.monitor]) {
    const cfn = resource(fn);
    add(cfn, "AwsSolutions-L1", LAMBDA_RUNTIME);
    add(cfn, "Serverless-LambdaLatestVersion", LAMBDA_RUNTIME);
    add(
      cfn,
      "Serverless-LambdaTracing",
      "The code carries no X-Ray instrumentation; diagnosis uses structured JSON logs and EMF metrics. Active tracing would add cost per consumer batch without adding insight.",
    );
  }
  add(resource(f.poller), "Serverless-LambdaDLQ", TICK);
  add(resource(f.monitor), "Serverless-LambdaDLQ", TICK);
  add(
    resource(f.consumer),
    "Serverless-LambdaDLQ",
    "The consumer is invoked synchronously by the SQS event source mapping, so a function DLQ never receives anything; failed records go to the queue's own dead-letter queue through its redrive policy.",
  );
  add(
    resource(f.bootstrap),
    "Serverless-LambdaDLQ",
    "The bootstrap is run by an operator who reads the result of the invocation and its log; an event replayed from a DLQ later could start an unwanted re-index.",
  );
  add(invokeConfig(f.poller), "Serverless-LambdaAsyncFailureDestination", TICK);
  add(invokeConfig(f.monitor), "Serverless-LambdaAsyncFailureDestination", TICK);
  add(
    invokeConfig(f.bootstrap),
    "Serverless-LambdaAsyncFailureDestination",
    "The bootstrap is run by an operator who reads the result and log of the invocation; a failure also shows in its Errors metric. Retries are off so that a failed bootstrap is not re-run unseen.",
  );
  const mapping = f.consumer.node.children.find((c) => c.node.id.startsWith("SqsEventSource:"));
  if (mapping) {
    add(
      resource(mapping),
      "Serverless-LambdaEventSourceMappingDestination",
      "SQS event source mappings support no on-failure destination; records that keep failing move to the queue's dead-letter queue through its redrive policy (maxReceiveCount), watched by the DeadLetterQueueNotEmpty alarm.",
    );
  }
  const roles = [f.poller, f.consumer, f.bootstrap, f.monitor]
    .map((fn) => fn.role)
    .filter((r) => r !== undefined);
  if (t.inVpc) {
    for (const role of roles) {
      add(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        "The AWS managed policy Lambda itself attaches for VPC access (network interfaces); AWS keeps it to the set of EC2 actions Lambda needs, which do not support narrower resources.",
      );
    }
  }
  if (t.searchEngine.kind === "aws-opensearch") {
    const domain = t.searchEngine.domainArn;
    for (const fn of [f.consumer, f.bootstrap, f.monitor]) {
      const policy = fn.role?.node.tryFindChild("DefaultPolicy");
      if (!policy) continue;
      add(
        resource(policy),
        `AwsSolutions-IAM5[Resource::${domain}/*]`,
        "OpenSearch HTTP paths under the domain (indices, _bulk, _alias, _search): the index names are versioned at bootstrap and swapped behind an alias, so they cannot be listed ahead; the grant is limited to this one domain.",
      );
    }
  }
  for (const subscription of t.emailSubscriptions ?? []) {
    add(
      resource(subscription),
      "Serverless-SNSRedrivePolicy",
      "An email notification of an alarm that SNS could not deliver after its retries needs no DLQ: the alarm state stays visible in CloudWatch and the dashboard.",
    );
  }
  add(resource(f.pollerRule), "Serverless-EventBusDLQ", TICK);
  add(resource(f.monitorRule), "Serverless-EventBusDLQ", TICK);
  return list;
}

/** Records {@link nagAcknowledgements} on their constructs. */
export function acknowledgeFindings(t: NagTargets): void {
  for (const a of nagAcknowledgements(t)) Validations.of(a.scope).acknowledge({ id: a.id, reason: a.reason });
}
