import { copyFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Aws, CfnCondition, DockerImage, Duration, Fn, Token } from "aws-cdk-lib";
import { type ISecurityGroup, type IVpc, SecurityGroup, type SubnetSelection } from "aws-cdk-lib/aws-ec2";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import {
  type CfnPolicy,
  Effect,
  ManagedPolicy,
  Policy,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  Code,
  Function as LambdaFunctionResource,
  LoggingFormat,
  Runtime,
} from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import {
  type AlarmThresholds,
  type ConsumerSettings,
  DEFAULT_CONSUMER,
  FUNCTION_ROLES,
  type FunctionRole,
  type PollerMode,
  type SchemaSource,
  type SearchEngine,
} from "./props";
import { assertNoSecretInEnvironment } from "./secrets";

/** This repository's root: the default project root for bundling and home of the default handlers. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Handlers bundled ahead of time, `<dir>/<role>/index.js`: present in the published construct
 * package (next to its compiled code), absent in this repository, which bundles at synth time.
 */
export const PREBUILT_DIR = join(dirname(fileURLToPath(import.meta.url)), "lambda");

/** The Lambda runtime's CA bundle with the Amazon RDS CAs (lib/database's `LAMBDA_CA_BUNDLE`). */
const LAMBDA_CA_BUNDLE = "/var/runtime/ca-cert.pem";

/** The handler files of this repository, one per function. */
export const DEFAULT_ENTRIES: Readonly<Record<FunctionRole, string>> = {
  poller: join(REPO_ROOT, "lambdas", "poller.ts"),
  consumer: join(REPO_ROOT, "lambdas", "consumer.ts"),
  bootstrap: join(REPO_ROOT, "lambdas", "bootstrap.ts"),
  monitor: join(REPO_ROOT, "lambdas", "monitor.ts"),
};

/** Where a bundled schema file lands inside every function (`/var/task` is the code directory). */
export const BUNDLED_SCHEMA_PATH = "/var/task/schema.json";

/** The monitor's schedule: often enough to catch WAL growth, cheap enough to ignore. */
export const MONITOR_SCHEDULE = Schedule.rate(Duration.minutes(5));

const SETTINGS: Record<FunctionRole, { description: string; memorySize: number; timeout: Duration }> = {
  poller: {
    description: "slotsync poller: peeks the replication slot, sends root keys to SQS, advances the slot",
    memorySize: 512,
    timeout: Duration.minutes(1),
  },
  consumer: {
    description: "slotsync consumer: rebuilds documents for queued keys and bulk-writes them",
    memorySize: DEFAULT_CONSUMER.memorySize,
    timeout: DEFAULT_CONSUMER.timeout,
  },
  bootstrap: {
    description:
      "slotsync bootstrap (manual invoke): slot, index and alias, range fan-out, enables the poller",
    memorySize: 1024,
    timeout: Duration.minutes(15),
  },
  monitor: {
    description:
      "slotsync monitor: slot health, lag and retained WAL as metrics, webhook and EventBridge alerts",
    memorySize: 256,
    timeout: Duration.minutes(1),
  },
};

/** Properties of {@link SyncFunctions}; the composite construct fills in every default. */
export interface SyncFunctionsProps {
  readonly schema: SchemaSource;
  readonly secret: ISecret;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly slotName: string;
  readonly searchEngine: SearchEngine;
  readonly thresholds: Required<AlarmThresholds>;
  readonly consumer: ConsumerSettings;
  readonly pollSchedule: Schedule;
  readonly pollerTimeout?: Duration;
  readonly pollerEnabled: boolean;
  /** Reserve one concurrent execution for the poller. */
  readonly pollerReservedConcurrency: boolean;
  /** `POLLER_MODE`. */
  readonly pollerMode: PollerMode;
  readonly entries: Readonly<Record<FunctionRole, string>>;
  readonly projectRoot: string;
  readonly runtime?: Runtime;
  readonly logRetention?: RetentionDays;
  readonly environment: Readonly<Record<string, string>>;
  readonly vpc?: IVpc;
  readonly vpcSubnets?: SubnetSelection;
  readonly securityGroups?: ISecurityGroup[];
}

/**
 * The four Lambda functions, bundled locally with esbuild, with their schedules, the SQS event
 * source and least-privilege roles. Secrets reach them only as `SLOTSYNC_SECRET_ARN`.
 */
export class SyncFunctions extends Construct {
  readonly poller: LambdaFunctionResource;
  readonly consumer: LambdaFunctionResource;
  readonly bootstrap: LambdaFunctionResource;
  readonly monitor: LambdaFunctionResource;
  /** The poller's EventBridge schedule (bootstrap may enable it: `POLLER_RULE_NAME`). */
  readonly pollerRule: Rule;
  readonly monitorRule: Rule;
  /** The functions' security group, created when a VPC is given without security groups. */
  readonly securityGroup?: SecurityGroup;
  private readonly securityGroups: ISecurityGroup[] | undefined;

  constructor(scope: Construct, id: string, props: SyncFunctionsProps) {
    super(scope, id);
    const environment = this.environment(props);
    if (props.vpc && !props.securityGroups) {
      // One group for all four, so the database's group needs one rule, not four.
      this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
        vpc: props.vpc,
        description: "slotsync functions - allow this group in the security group of the database",
        allowAllOutbound: true,
      });
    }
    this.securityGroups = props.securityGroups ?? (this.securityGroup ? [this.securityGroup] : undefined);
    const pollerTimeout = props.pollerTimeout ?? defaultPollerTimeout(props.pollSchedule);
    const consumerTimeout = props.consumer.timeout ?? DEFAULT_CONSUMER.timeout;
    const make = (role: FunctionRole, overrides: { timeout?: Duration; memorySize?: number } = {}) =>
      this.makeFunction(role, props, environment, overrides);

    // Runs overlap the next tick by a few seconds, and the next run waits for the lease, unless one
    // concurrent execution is reserved (an overlapping tick would then be throttled, not wait).
    const runSeconds = pollerRunSeconds(props.pollSchedule, pollerTimeout, !props.pollerReservedConcurrency);
    this.poller = this.makeFunction(
      "poller",
      props,
      runSeconds === undefined || environment.POLLER_RUN_SECONDS !== undefined
        ? environment
        : { ...environment, POLLER_RUN_SECONDS: String(runSeconds) },
      { timeout: pollerTimeout },
    );
    this.consumer = make("consumer", {
      timeout: consumerTimeout,
      memorySize: props.consumer.memorySize ?? DEFAULT_CONSUMER.memorySize,
    });
    this.bootstrap = make("bootstrap");
    this.monitor = make("monitor");

    // A failed tick is not worth a retry: the next tick polls again. A tick throttled because the
    // previous run is finishing its last cycle is retried by Lambda within the event age.
    this.poller.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: pollerEventAge(props.pollSchedule, pollerTimeout),
    });
    this.monitor.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });
    // A failed bootstrap is re-run by the operator, who reads why it failed first.
    this.bootstrap.configureAsyncInvoke({ retryAttempts: 0 });

    this.pollerRule = new Rule(this, "PollerSchedule", {
      description: "slotsync: runs the poller",
      schedule: props.pollSchedule,
      enabled: props.pollerEnabled,
      targets: [new LambdaFunction(this.poller, { retryAttempts: 2, maxEventAge: Duration.minutes(1) })],
    });
    this.monitorRule = new Rule(this, "MonitorSchedule", {
      description: "slotsync: runs the monitor",
      schedule: MONITOR_SCHEDULE,
      targets: [new LambdaFunction(this.monitor, { retryAttempts: 2, maxEventAge: Duration.minutes(5) })],
    });
    // The consumer that finishes a bootstrap's last range switches the alias and enables the
    // poller (lib/bootstrap onRangeDone); bootstrap itself enables it when resuming a finished copy.
    this.bootstrap.addEnvironment("POLLER_RULE_NAME", this.pollerRule.ruleName);
    this.consumer.addEnvironment("POLLER_RULE_NAME", this.pollerRule.ruleName);
    this.consumer.addToRolePolicy(
      new PolicyStatement({ actions: ["events:EnableRule"], resources: [this.pollerRule.ruleArn] }),
    );
    // Enable at the end of the first bootstrap; disable for `reset` (which drops the slot).
    this.bootstrap.addToRolePolicy(
      new PolicyStatement({
        actions: ["events:EnableRule", "events:DisableRule"],
        resources: [this.pollerRule.ruleArn],
      }),
    );

    const batchSize = props.consumer.batchSize ?? DEFAULT_CONSUMER.batchSize;
    this.consumer.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize,
        // No window by default: a batch leaves as soon as SQS has messages, which keeps
        // commit-to-searchable near a second. Batches above 10 messages need one (SQS rule).
        maxBatchingWindow:
          props.consumer.maxBatchingWindow ??
          (batchSize > 10 ? Duration.seconds(1) : DEFAULT_CONSUMER.maxBatchingWindow),
        maxConcurrency: props.consumer.maxConcurrency ?? DEFAULT_CONSUMER.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.grant(props);
  }

  /** The functions by role. */
  get all(): Record<FunctionRole, LambdaFunctionResource> {
    return { poller: this.poller, consumer: this.consumer, bootstrap: this.bootstrap, monitor: this.monitor };
  }

  private environment(props: SyncFunctionsProps): Record<string, string> {
    assertNoSecretInEnvironment(props.environment);
    const env: Record<string, string> = {
      NODE_OPTIONS: "--enable-source-maps",
      // Node.js 20+ Lambda runtimes do not trust the runtime's bundle (with the Amazon RDS CAs)
      // unless told to; lib/database also reads it, this covers every other TLS client.
      NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
      POWERTOOLS_METRICS_NAMESPACE: "slotsync",
      POWERTOOLS_LOG_LEVEL: "INFO",
      SLOTSYNC_SECRET_ARN: props.secret.secretArn,
      SQS_QUEUE_URL: props.queue.queueUrl,
      SQS_DLQ_URL: props.deadLetterQueue.queueUrl,
      SLOTSYNC_SLOT: props.slotName,
      POLLER_MODE: props.pollerMode,
      WAL_WARNING_THRESHOLD_GB: String(props.thresholds.walWarningGb),
      WAL_CRITICAL_THRESHOLD_GB: String(props.thresholds.walCriticalGb),
    };
    if (props.schema.kind === "file") env.SCHEMA = BUNDLED_SCHEMA_PATH;
    else env.SCHEMA_URL = props.schema.value;
    const engine = props.searchEngine;
    if (engine.kind === "webhook" || engine.kind === "ndjson") env.SINK = engine.kind;
    else if (engine.kind !== "elasticsearch") env.OPENSEARCH = "true";
    if (engine.kind === "aws-opensearch" || engine.kind === "aws-opensearch-serverless")
      env.OPENSEARCH_AWS_HOSTED = "true";
    if (engine.kind === "aws-opensearch-serverless") env.OPENSEARCH_AWS_SERVERLESS = "true";
    Object.assign(env, props.environment);
    assertNoSecretInEnvironment(env);
    return env;
  }

  private makeFunction(
    role: FunctionRole,
    props: SyncFunctionsProps,
    environment: Record<string, string>,
    overrides: { timeout?: Duration; memorySize?: number },
  ): LambdaFunctionResource {
    const name = role.charAt(0).toUpperCase() + role.slice(1);
    const entry = props.entries[role];
    const prebuilt = join(PREBUILT_DIR, role);
    const usePrebuilt = entry === DEFAULT_ENTRIES[role] && existsSync(join(prebuilt, "index.js"));
    if (!usePrebuilt && !existsSync(entry))
      throw new Error(`the ${role} handler ${entry} does not exist (entries.${role})`);
    const settings = SETTINGS[role];
    const logGroup = new LogGroup(this, `${name}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    // Own roles instead of AWSLambdaBasicExecutionRole: logs only to the function's own group.
    const executionRole = new Role(this, `${name}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `slotsync ${role} function`,
    });
    logGroup.grantWrite(executionRole);
    // Lambda adds this policy only to roles it creates; ours need it to attach to the VPC.
    if (props.vpc) {
      executionRole.addManagedPolicy(
        ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaVPCAccessExecutionRole"),
      );
    }
    const common = {
      description: settings.description,
      runtime: props.runtime ?? Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: overrides.memorySize ?? settings.memorySize,
      timeout: overrides.timeout ?? settings.timeout,
      role: executionRole,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: `slotsync-${role}` },
      // One poller at a time is enforced by the lease; reserving one execution also keeps ticks
      // from stacking up, but fails the deploy on accounts with a small concurrency quota.
      ...(role === "poller" && props.pollerReservedConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
      ...(props.vpc
        ? {
            vpc: props.vpc,
            ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
            ...(this.securityGroups ? { securityGroups: this.securityGroups } : {}),
          }
        : {}),
    };
    if (usePrebuilt) {
      return new LambdaFunctionResource(this, name, {
        ...common,
        handler: "index.handler",
        code: prebuiltCode(prebuilt, props.schema),
      });
    }
    return new NodejsFunction(this, name, {
      ...common,
      entry,
      handler: "handler",
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, "package-lock.json"),
      bundling: bundlingOptions(props.schema),
    });
  }

  private grant(props: SyncFunctionsProps): void {
    const fns = this.all;
    for (const role of FUNCTION_ROLES) props.secret.grantRead(fns[role]);
    const key = props.secret.encryptionKey;
    if (key) {
      // grantRead leaves an imported key out in an environment-agnostic stack (it cannot tell the
      // key's account is ours); decrypting through Secrets Manager is all the functions need.
      for (const role of FUNCTION_ROLES) {
        fns[role].addToRolePolicy(
          new PolicyStatement({
            actions: ["kms:Decrypt"],
            resources: [key.keyArn],
            conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${Aws.REGION}.amazonaws.com` } },
          }),
        );
      }
    }
    props.queue.grantSendMessages(this.poller);
    props.queue.grantSendMessages(this.bootstrap);
    // The consumer re-queues split batches and dead-letters records that can never succeed itself.
    props.queue.grantSendMessages(this.consumer);
    props.deadLetterQueue.grantSendMessages(this.consumer);
    for (const q of [props.queue, props.deadLetterQueue]) {
      q.grant(this.monitor, "sqs:GetQueueAttributes");
      q.grant(this.bootstrap, "sqs:GetQueueAttributes");
    }
    this.monitor.addToRolePolicy(
      new PolicyStatement({
        actions: ["events:PutEvents"],
        resources: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
      }),
    );
    this.grantSchema(props.schema);
    this.grantSearchEngine(props.searchEngine);
  }

  /** `s3:GetObject` on the schema object; conditional when the URL is only known at deploy time. */
  private grantSchema(schema: SchemaSource): void {
    if (schema.kind !== "url") return;
    const url = schema.value;
    const known = !Token.isUnresolved(url);
    if (known && !url.startsWith("s3://")) return;
    const objectPath = known ? url.slice("s3://".length) : Fn.select(1, Fn.split("://", url));
    const policy = new Policy(this, "SchemaRead", {
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ["s3:GetObject"],
          resources: [`arn:${Aws.PARTITION}:s3:::${objectPath}`],
        }),
      ],
      roles: FUNCTION_ROLES.map((role) => this.all[role].role).filter((r) => r !== undefined),
    });
    if (!known) {
      const isS3 = new CfnCondition(this, "SchemaIsS3", {
        expression: Fn.conditionEquals(Fn.select(0, Fn.split("://", url)), "s3"),
      });
      (policy.node.defaultChild as CfnPolicy).cfnOptions.condition = isS3;
    }
  }

  private grantSearchEngine(engine: SearchEngine): void {
    for (const role of ["consumer", "bootstrap", "monitor"] as const) {
      const fn = this.all[role];
      if (engine.kind === "aws-opensearch") {
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
            resources: [engine.domainArn, `${engine.domainArn}/*`],
          }),
        );
      } else if (engine.kind === "aws-opensearch-serverless") {
        fn.addToRolePolicy(
          new PolicyStatement({ actions: ["aoss:APIAccessAll"], resources: [engine.collectionArn] }),
        );
      }
    }
  }
}

/**
 * esbuild on the local machine (no Docker). `@aws-sdk/*` ships with the runtime; `pg-native` is pg's
 * optional native binding, never installed, so it must not be resolved. Minified for cold starts,
 * with names kept (error classes name themselves from their constructor) and source maps.
 */
function bundlingOptions(schema: SchemaSource) {
  return {
    forceDockerBundling: false,
    format: OutputFormat.CJS,
    minify: true,
    keepNames: true,
    sourceMap: true,
    sourcesContent: false,
    // esbuild's size table on every synth is noise; its warnings and errors still show.
    logLevel: LogLevel.WARNING,
    externalModules: ["@aws-sdk/*", "pg-native"],
    ...(schema.kind === "file" ? { commandHooks: schemaCopyHooks(schema.value) } : {}),
  };
}

/**
 * A prebuilt handler as the function's code, with the schema file next to it when it is bundled:
 * copied by local bundling, never Docker (the image is only named because CDK requires one).
 */
function prebuiltCode(dir: string, schema: SchemaSource): Code {
  if (schema.kind !== "file") return Code.fromAsset(dir);
  const source = resolve(schema.value);
  if (!existsSync(source)) throw new Error(`the schema file ${source} does not exist`);
  return Code.fromAsset(dir, {
    bundling: {
      image: DockerImage.fromRegistry("scratch"),
      local: {
        tryBundle(outputDir: string) {
          for (const file of ["index.js", "index.js.map"])
            if (existsSync(join(dir, file))) copyFileSync(join(dir, file), join(outputDir, file));
          copyFileSync(source, join(outputDir, "schema.json"));
          return true;
        },
      },
    },
  });
}

/** Copies the schema file into the bundle after esbuild ran. */
function schemaCopyHooks(file: string) {
  const source = resolve(file);
  if (!existsSync(source)) throw new Error(`the schema file ${source} does not exist`);
  const copy = process.platform === "win32" ? "copy /Y" : "cp";
  const quote = (p: string) => (process.platform === "win32" ? `"${p}"` : `'${p.replace(/'/g, "'\\''")}'`);
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [
      `${copy} ${quote(source)} ${quote(join(outputDir, "schema.json"))}`,
    ],
  };
}

/** The rate of a `rate(...)` schedule in seconds, or undefined for a cron schedule. */
export function rateSeconds(schedule: Schedule): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.expressionString);
  if (!match) return undefined;
  const unit = match[2] ?? "minutes";
  return Number(match[1]) * (unit.startsWith("minute") ? 60 : unit.startsWith("hour") ? 3600 : 86_400);
}

/**
 * The poller's default timeout with a rate schedule: Lambda's maximum, 15 minutes. A run still
 * stops starting cycles just before the next tick (`POLLER_RUN_SECONDS`), so an ordinary run lasts
 * about the rate and costs no more; only a cycle inside a transaction larger than one rate (10
 * million rows decode in about a minute) goes on, up to the safety margin before this timeout,
 * and then keeps its place for the next run. 5 minutes for cron schedules (their runs use the
 * whole timeout).
 */
export function defaultPollerTimeout(schedule: Schedule): Duration {
  return rateSeconds(schedule) === undefined ? Duration.minutes(5) : Duration.minutes(15);
}

/**
 * How long a throttled tick may wait for the poller (reserved concurrency 1 while a long run
 * lasts): about one rate, so ticks do not pile up behind a long run; 60 s at least.
 */
function pollerEventAge(schedule: Schedule, timeout: Duration): Duration {
  const rate = rateSeconds(schedule);
  return clampEventAge(
    rate === undefined
      ? timeout
      : Duration.seconds(Math.min(timeout.toSeconds(), rate + POLLER_SAFETY_MARGIN_SECONDS)),
  );
}

/**
 * How long one poller run keeps starting cycles (`POLLER_RUN_SECONDS`). With `overlap`, the
 * schedule's rate plus {@link POLLER_OVERLAP_SECONDS}: the next tick's run, started meanwhile,
 * waits for the lease (`POLLER_LEASE_WAIT_SECONDS`) and takes over as soon as this run releases
 * it, so no moment goes unpolled. Without (one reserved concurrent execution, where an
 * overlapping tick is throttled instead), 2 s short of the rate. Undefined (run until the margin
 * before the timeout) for cron schedules.
 */
export function pollerRunSeconds(schedule: Schedule, timeout: Duration, overlap = true): number | undefined {
  const rate = rateSeconds(schedule);
  return rate === undefined ? undefined : pollerRunSecondsForRate(rate, timeout.toSeconds(), overlap);
}

/** {@link pollerRunSeconds} for a period of `rate` seconds (the benchmark also runs shorter ones). */
export function pollerRunSecondsForRate(rate: number, timeoutSeconds: number, overlap = true): number {
  const limit = timeoutSeconds - POLLER_SAFETY_MARGIN_SECONDS;
  return Math.max(1, overlap ? Math.min(rate + POLLER_OVERLAP_SECONDS, limit) : Math.min(rate, limit) - 2);
}

/** How long a poller run overlaps the next tick's run (which waits for the lease meanwhile). */
export const POLLER_OVERLAP_SECONDS = 3;

/** The poller's default `POLLER_SAFETY_MARGIN_SECONDS`. */
const POLLER_SAFETY_MARGIN_SECONDS = 15;

/** Lambda accepts event ages from 60 s to 6 h. */
function clampEventAge(age: Duration): Duration {
  return Duration.seconds(Math.min(6 * 3600, Math.max(60, age.toSeconds())));
}
