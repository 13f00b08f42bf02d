import { fileURLToPath } from "node:url";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { SchemaSource, SlotsyncSync, type SlotsyncSyncProps } from "../../../infra/construct";

/** A handler that bundles in milliseconds; template tests skip bundling anyway. */
export const FIXTURE_HANDLER = fileURLToPath(new URL("./fixtures/handler.ts", import.meta.url));
export const FIXTURE_SCHEMA = fileURLToPath(new URL("./fixtures/schema.json", import.meta.url));
export const FIXTURE_ENTRIES = {
  poller: FIXTURE_HANDLER,
  consumer: FIXTURE_HANDLER,
  bootstrap: FIXTURE_HANDLER,
  monitor: FIXTURE_HANDLER,
};

/** Context that makes synth skip asset bundling: template tests need no esbuild run. */
export const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

/** A stack holding one SlotsyncSync, built with fixture handlers and no bundling. */
export function buildSync(
  props: Partial<SlotsyncSyncProps> = {},
  configure?: (stack: Stack) => Partial<SlotsyncSyncProps>,
): { app: App; stack: Stack; sync: SlotsyncSync; template: Template } {
  // CDK's built-in CloudFormation schema check costs seconds per synth; the app test runs it once.
  const app = new App({ context: NO_BUNDLING, builtinCloudFormationValidation: false });
  const stack = new Stack(app, "Test");
  const sync = new SlotsyncSync(stack, "Sync", {
    schema: SchemaSource.url("https://config.example.com/schema.json"),
    entries: FIXTURE_ENTRIES,
    ...props,
    ...configure?.(stack),
  });
  return { app, stack, sync, template: Template.fromStack(stack) };
}

/** Every cdk-nag finding (errors and warnings) of the AwsSolutions and Serverless packs. */
export function nagFindings(scope: IConstruct): string[] {
  const findings: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
    for (const v of pack.validateScope(scope).violations) {
      for (const r of v.violatingResources) findings.push(`${v.severity} ${v.ruleName} ${r.constructPath}`);
    }
  }
  return findings;
}

/** The CloudFormation resources of one type, by logical id. */
export function resourcesOf(
  template: Template,
  type: string,
): Record<string, { Properties: Record<string, unknown> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
}

/** The logical id of the function whose description starts with `slotsync <role>`. */
export function functionId(template: Template, role: string): string {
  const match = Object.entries(resourcesOf(template, "AWS::Lambda::Function")).find(([, r]) =>
    String(r.Properties.Description).startsWith(`slotsync ${role}`),
  );
  if (!match) throw new Error(`no ${role} function in the template`);
  return match[0];
}

/** The properties of the function of one role. */
export function functionProps(
  template: Template,
  role: string,
): Record<string, unknown> & {
  Environment: { Variables: Record<string, unknown> };
} {
  const id = functionId(template, role);
  return resourcesOf(template, "AWS::Lambda::Function")[id]?.Properties as ReturnType<typeof functionProps>;
}

/** The policy statements attached to the role of one function. */
export function roleStatements(template: Template, role: string): Array<Record<string, unknown>> {
  const fn = functionProps(template, role) as unknown as { Role: { "Fn::GetAtt": [string, string] } };
  const roleId = fn.Role["Fn::GetAtt"][0];
  const statements: Array<Record<string, unknown>> = [];
  for (const policy of Object.values(resourcesOf(template, "AWS::IAM::Policy"))) {
    const roles = policy.Properties.Roles as Array<{ Ref: string }>;
    if (!roles.some((r) => r.Ref === roleId)) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
    statements.push(...doc.Statement);
  }
  return statements;
}

/** The actions of a statement as a list. */
export function actionsOf(statement: Record<string, unknown>): string[] {
  const a = statement.Action;
  return Array.isArray(a) ? (a as string[]) : [a as string];
}

/** The schema fixture as a SchemaSource. */
export const fixtureSchema = (): SchemaSource => SchemaSource.file(FIXTURE_SCHEMA);
