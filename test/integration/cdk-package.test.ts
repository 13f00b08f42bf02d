import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../tools/services/process";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PACKAGE = join(ROOT, "packages", "cdk-construct");

let work: string;
let app: string;

/**
 * Builds the construct package, packs it with `npm pack`, and installs the tarball into a CDK app
 * in a temporary folder outside this repository. The app links this repository's aws-cdk-lib and
 * constructs (the package's peer dependencies) instead of downloading them again.
 */
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "slotsync-cdk-package-"));
  // Asynchronous on purpose: a blocked event loop starves the test runner's own messages.
  await run(
    process.execPath,
    [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/build-construct.ts"],
    {
      cwd: ROOT,
    },
  );
  const packed = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: PACKAGE });
  const tarball = join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0]?.filename ?? "");
  app = join(work, "app");
  const modules = join(app, "node_modules");
  mkdirSync(join(modules, "@slotsync", "cdk"), { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", join(modules, "@slotsync", "cdk"), "--strip-components=1"]);
  for (const peer of ["aws-cdk-lib", "constructs"])
    symlinkSync(join(ROOT, "node_modules", peer), join(modules, peer));
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "consumer-app", private: true, type: "module" }),
  );
  writeFileSync(
    join(app, "schema.json"),
    JSON.stringify([
      { database: "shop", index: "books", nodes: { table: "book", columns: ["isbn", "title"] } },
    ]),
  );
  writeFileSync(
    join(app, "app.mjs"),
    `import { App, Stack } from "aws-cdk-lib";
import { SchemaSource, SlotsyncSync } from "@slotsync/cdk";

const app = new App({ outdir: "cdk.out" });
const stack = new Stack(app, "Consumer");
new SlotsyncSync(stack, "Sync", {
  schema: SchemaSource.file("schema.json"),
  upstashRedisRestUrl: "https://eu1-example.upstash.io",
  alarmEmail: "ops@example.com",
});
app.synth();
`,
  );
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed construct package", () => {
  it("ships compiled JavaScript, type declarations, exports and the bundled handlers", () => {
    const pkg = JSON.parse(
      readFileSync(join(app, "node_modules", "@slotsync", "cdk", "package.json"), "utf8"),
    );
    expect(pkg.private).toBeUndefined();
    expect(pkg.exports["."]).toEqual({ types: "./dist/types/infra/index.d.ts", import: "./dist/index.js" });
    const installed = join(app, "node_modules", "@slotsync", "cdk");
    expect(existsSync(join(installed, pkg.exports["."].import))).toBe(true);
    expect(existsSync(join(installed, pkg.exports["."].types))).toBe(true);
    expect(readFileSync(join(installed, "dist", "types", "infra", "construct.d.ts"), "utf8")).toContain(
      "class SlotsyncSync",
    );
    for (const role of ["poller", "consumer", "bootstrap", "monitor"])
      expect(existsSync(join(installed, "dist", "lambda", role, "index.js")), role).toBe(true);
    expect(readdirSync(installed).some((f) => f.endsWith(".ts"))).toBe(false);
  });

  it("synthesizes in a CDK app outside this repository, with the schema beside each handler", async () => {
    await run(process.execPath, ["app.mjs"], { cwd: app });
    const template = JSON.parse(readFileSync(join(app, "cdk.out", "Consumer.template.json"), "utf8")) as {
      Resources: Record<
        string,
        { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }
      >;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions).toHaveLength(4);
    for (const fn of functions) {
      expect(fn.Properties.Handler).toBe("index.handler");
      // The code's S3 key is the asset's hash; the asset itself is staged as cdk.out/asset.<hash>.
      const key = String((fn.Properties.Code as { S3Key?: unknown }).S3Key ?? "");
      expect(key).toMatch(/^[0-9a-f]{64}\.zip$/);
      const dir = join(app, "cdk.out", `asset.${key.replace(/\.zip$/, "")}`);
      expect(readdirSync(dir).sort()).toEqual(["index.js", "index.js.map", "schema.json"]);
      expect(JSON.parse(readFileSync(join(dir, "schema.json"), "utf8"))[0].index).toBe("books");
    }
  });
});
