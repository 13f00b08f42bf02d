import { App, type AppProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { readSettings } from "./context";
import type { SlotsyncSyncProps } from "./props";
import { SlotsyncStack } from "./stack";

/** Options of {@link createApp}. */
export interface CreateAppOptions extends AppProps {
  /** Handler entry files (default the four in `lambdas/`); tests point them at fixtures. */
  readonly entries?: SlotsyncSyncProps["entries"];
}

/**
 * The CDK app: one {@link SlotsyncStack} configured from the context, checked by cdk-nag's
 * AwsSolutions and Serverless packs at synth (an unacknowledged error stops the synth).
 * The stack is environment-agnostic, so synth needs no AWS account, unless a VPC must be looked up.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stack: SlotsyncStack } {
  const { entries, ...appProps } = options;
  const app = new App(appProps);
  const settings = readSettings(app.node);
  const lookup = settings.network !== undefined && settings.network.subnetIds.length === 0;
  const stack = new SlotsyncStack(app, settings.stackName, {
    settings,
    description: "slotsync: PostgreSQL to Elasticsearch/OpenSearch sync (poller, queue, consumers, monitor)",
    ...(lookup
      ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
      : {}),
    ...(entries ? { entries } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}
