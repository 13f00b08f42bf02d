/**
 * The whole app as `cdk synth` runs it: the four real handlers bundled by esbuild, cdk.json's
 * feature flags, cdk-nag and CDK's CloudFormation checks. Slow (four bundles), so it lives alone.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../infra/create-app";
import { REPO_ROOT } from "../../../infra/functions";
import { FIXTURE_SCHEMA, nagFindings } from "./support";

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")) as {
  app: string;
  context: Record<string, unknown>;
};
const SECRET_NAME = /^(PG_URL|ALERT_WEBHOOK_URL)$|_TOKEN$|_PASSWORD$|_API_KEY$/;

interface LambdaResource {
  Type: string;
  Properties: {
    Description: string;
    Handler: string;
    Code: { S3Key: string };
    Environment: { Variables: Record<string, unknown> };
  };
}

describe("the CDK app, synthesized with bundling", { timeout: 300_000 }, () => {
  let outdir: string;
  let synth: ReturnType<typeof createApp>;
  let template: { Resources: Record<string, LambdaResource> };
  let functions: LambdaResource[];

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), "slotsync-cdk-"));
    synth = createApp({ outdir, context: { ...cdkJson.context, schemaFile: FIXTURE_SCHEMA } });
    // CDK announces each bundling on stderr; keep it, and show it only if synth fails.
    const announced: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      announced.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      synth.app.synth();
    } catch (error) {
      throw new Error(`synth failed: ${(error as Error).message}\n${announced.join("")}`);
    } finally {
      process.stderr.write = write;
    }
    template = JSON.parse(readFileSync(join(outdir, "Slotsync.template.json"), "utf8"));
    functions = Object.values(template.Resources).filter((r) => r.Type === "AWS::Lambda::Function");
  }, 300_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("is what cdk.json runs", () => {
    expect(cdkJson.app).toBe("npx tsx infra/app.ts");
    expect(existsSync(join(REPO_ROOT, "infra", "app.ts"))).toBe(true);
  });

  it("bundles the four real handlers", () => {
    expect(functions.map((f) => f.Properties.Description.split(":")[0]).sort()).toEqual([
      "slotsync bootstrap (manual invoke)",
      "slotsync consumer",
      "slotsync monitor",
      "slotsync poller",
    ]);
  });

  it("leaves no cdk-nag finding unacknowledged, errors or warnings", () => {
    expect(nagFindings(synth.app)).toEqual([]);
  });

  it("passes CDK's own CloudFormation checks without a violation", () => {
    const reportPath = join(outdir, "validation-report.json");
    const report = existsSync(reportPath)
      ? (JSON.parse(readFileSync(reportPath, "utf8")) as { pluginReports: Array<{ violations?: unknown[] }> })
      : { pluginReports: [] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it("passes no secret-looking variable to any function", () => {
    for (const fn of functions) {
      for (const key of Object.keys(fn.Properties.Environment.Variables))
        expect(SECRET_NAME.test(key), key).toBe(false);
    }
  });

  it("produces CommonJS bundles with source maps and the schema, whose handler loads outside the repo", () => {
    for (const fn of functions) {
      // The code's object key is the asset hash; the cloud assembly keeps the files in asset.<hash>.
      const asset = join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, "")}`);
      expect(readdirSync(asset).sort()).toEqual(["index.js", "index.js.map", "schema.json"]);
      expect(readFileSync(join(asset, "schema.json"), "utf8")).toBe(readFileSync(FIXTURE_SCHEMA, "utf8"));
      const code = readFileSync(join(asset, "index.js"), "utf8");
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
      // pg's optional native binding and the runtime's AWS SDK stay outside the bundle.
      expect(code).toContain('require("pg-native")');
      expect(code).toContain('require("@aws-sdk/client-sqs")');

      // In Lambda the code directory has no package.json ("type": "module" would make it ESM) and
      // the runtime's SDK is on NODE_PATH; reproduce that and load the handler.
      const dir = mkdtempSync(join(tmpdir(), "slotsync-bundle-"));
      try {
        copyFileSync(join(asset, "index.js"), join(dir, "index.js"));
        const out = execFileSync(
          process.execPath,
          ["-e", "process.stdout.write(typeof require('./index.js').handler)"],
          {
            cwd: dir,
            env: { PATH: process.env.PATH, NODE_PATH: join(REPO_ROOT, "node_modules") },
            encoding: "utf8",
          },
        );
        expect(out, fn.Properties.Description).toBe("function");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it("keeps the handler files the default app points at", () => {
    for (const role of ["poller", "consumer", "bootstrap", "monitor"]) {
      expect(existsSync(fileURLToPath(new URL(`../../../lambdas/${role}.ts`, import.meta.url))), role).toBe(
        true,
      );
    }
  });
});
