/**
 * Builds the publishable construct package in packages/cdk-construct: the four handlers bundled
 * with esbuild (dist/lambda/<role>/index.js, as the stack bundles them at synth time), the
 * construct itself as one ES module (dist/index.js, aws-cdk-lib and constructs left to the app),
 * and its type declarations (dist/types). `npm pack` in that folder then makes the tarball.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGE = join(ROOT, "packages", "cdk-construct");
const DIST = join(PACKAGE, "dist");
const ROLES = ["poller", "consumer", "bootstrap", "monitor"] as const;

async function main(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  for (const role of ROLES) {
    await build({
      entryPoints: [join(ROOT, "lambdas", `${role}.ts`)],
      outfile: join(DIST, "lambda", role, "index.js"),
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      minify: true,
      keepNames: true,
      sourcemap: true,
      sourcesContent: false,
      // The runtime provides the AWS SDK; pg-native is pg's optional binding, never installed.
      external: ["@aws-sdk/*", "pg-native"],
      logLevel: "warning",
    });
  }
  await build({
    entryPoints: [join(ROOT, "infra", "index.ts")],
    outfile: join(DIST, "index.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
  });
  execFileSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(PACKAGE, "tsconfig.json")], {
    stdio: "inherit",
  });
  console.log(`built ${DIST}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
