import { CfnOutput, CfnParameter, Fn, Stack, type StackProps } from "aws-cdk-lib";
import {
  type ISecurityGroup,
  type IVpc,
  SecurityGroup,
  Subnet,
  type SubnetSelection,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { Key } from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import { SlotsyncSync } from "./construct";
import type { AppSettings } from "./context";
import { SchemaSource, type SlotsyncSyncProps } from "./props";
import { importSecret } from "./secrets";

/** Properties of {@link SlotsyncStack}: the app's settings, plus handler overrides for tests. */
export interface SlotsyncStackProps extends StackProps {
  readonly settings: AppSettings;
  /** Handler entry files (default the four in `lambdas/`). */
  readonly entries?: SlotsyncSyncProps["entries"];
}

/**
 * The ready-made stack of `infra/app.ts`: one {@link SlotsyncSync} configured from the context, and
 * outputs for the operator. Environment-agnostic unless a VPC must be looked up.
 */
export class SlotsyncStack extends Stack {
  readonly sync: SlotsyncSync;

  constructor(scope: Construct, id: string, props: SlotsyncStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const schema = s.schema ?? this.schemaParameter();
    const network = s.network ? this.network(s.network) : undefined;
    const secret = s.secretArn
      ? importSecret(this, "Secret", {
          arn: s.secretArn,
          ...(s.secretKmsKeyArn
            ? { encryptionKey: Key.fromKeyArn(this, "SecretKey", s.secretKmsKeyArn) }
            : {}),
        })
      : undefined;

    this.sync = new SlotsyncSync(this, "Sync", {
      schema,
      ...(secret ? { secret } : {}),
      ...(s.upstashRedisRestUrl ? { upstashRedisRestUrl: s.upstashRedisRestUrl } : {}),
      ...(s.elasticsearchUrl ? { elasticsearchUrl: s.elasticsearchUrl } : {}),
      searchEngine: s.searchEngine,
      ...(s.slotName ? { slotName: s.slotName } : {}),
      ...(network ?? {}),
      ...(s.pollSchedule ? { pollSchedule: s.pollSchedule } : {}),
      ...(s.pollerTimeout ? { pollerTimeout: s.pollerTimeout } : {}),
      pollerEnabled: s.pollerEnabled,
      pollerReservedConcurrency: s.pollerReservedConcurrency,
      pollerMode: s.pollerMode,
      consumer: s.consumer,
      ...(s.maxReceiveCount !== undefined ? { maxReceiveCount: s.maxReceiveCount } : {}),
      thresholds: s.thresholds,
      ...(s.alarmEmail ? { alarmEmail: s.alarmEmail } : {}),
      ...(s.criticalAlarmEmail ? { criticalAlarmEmail: s.criticalAlarmEmail } : {}),
      disabledAlarms: s.disabledAlarms,
      ...(s.secretRemovalPolicy ? { secretRemovalPolicy: s.secretRemovalPolicy } : {}),
      ...(s.queueRemovalPolicy ? { queueRemovalPolicy: s.queueRemovalPolicy } : {}),
      tags: s.tags,
      ...(s.logRetention !== undefined ? { logRetention: s.logRetention } : {}),
      ...(props.entries ? { entries: props.entries } : {}),
    });

    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    out("SecretArn", this.sync.secret.secretArn, "Secret to fill with the JSON settings (PG_URL, ...)");
    out(
      "BootstrapFunctionName",
      this.sync.bootstrap.functionName,
      "Invoke once to create the slot and index",
    );
    out("PollerFunctionName", this.sync.poller.functionName, "The scheduled poller");
    out("PollerRuleName", this.sync.pollerRule.ruleName, "The poller's schedule (bootstrap enables it)");
    out("QueueUrl", this.sync.queue.queueUrl, "Key queue");
    out("DeadLetterQueueUrl", this.sync.deadLetterQueue.queueUrl, "Dead-letter queue");
    out("AlarmTopicArn", this.sync.alarmTopic.topicArn, "SNS topic of the alarms");
    if (this.sync.criticalAlarmTopic !== this.sync.alarmTopic)
      out("CriticalAlarmTopicArn", this.sync.criticalAlarmTopic.topicArn, "SNS topic of the critical alarms");
    out("DashboardName", this.sync.dashboard.dashboardName, "CloudWatch dashboard");
    if (network?.securityGroups === undefined && this.sync.securityGroup)
      out(
        "SecurityGroupId",
        this.sync.securityGroup.securityGroupId,
        "Allow this group in the database's group",
      );
  }

  /** Without `schemaFile`/`schemaUrl` the URL becomes a deploy-time parameter, so synth needs neither. */
  private schemaParameter(): SchemaSource {
    const param = new CfnParameter(this, "SchemaUrl", {
      type: "String",
      description: "https:// or s3:// URL of the slotsync schema.json (or synthesize with -c schemaFile=...)",
      // No user, password or query string: the value lands in a plain environment variable, so a
      // presigned URL (X-Amz-Signature) would publish its signature.
      allowedPattern: "^(https|s3)://[^?#@\\s]+$",
      constraintDescription:
        "must be an https:// or s3:// URL without a user, password or query string (for S3 give s3://bucket/key, not a presigned URL)",
    });
    return SchemaSource.url(param.valueAsString);
  }

  /**
   * The VPC without a lookup when subnets are given (synth stays offline), else through
   * `Vpc.fromLookup` (needs credentials once; the result is cached in cdk.context.json).
   */
  private network(n: NonNullable<AppSettings["network"]>): {
    vpc: IVpc;
    vpcSubnets?: SubnetSelection;
    securityGroups?: ISecurityGroup[];
  } {
    const vpc =
      n.subnetIds.length > 0
        ? // The subnets are selected explicitly below, so the zones are never used to place anything.
          Vpc.fromVpcAttributes(this, "Vpc", { vpcId: n.vpcId, availabilityZones: Fn.getAzs() })
        : Vpc.fromLookup(this, "Vpc", { vpcId: n.vpcId });
    return {
      vpc,
      ...(n.subnetIds.length > 0
        ? { vpcSubnets: { subnets: n.subnetIds.map((id, i) => Subnet.fromSubnetId(this, `Subnet${i}`, id)) } }
        : {}),
      ...(n.securityGroupIds.length > 0
        ? {
            securityGroups: n.securityGroupIds.map((id, i) =>
              SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, id),
            ),
          }
        : {}),
    };
  }
}
