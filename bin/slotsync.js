#!/usr/bin/env node
// The `slotsync` command. Runs the TypeScript CLI (lib/cli) in this process through tsx,
// so a clone works right after `npm ci`, from any working directory, with no build step. Running
// in-process (not a child process) keeps exit codes and signals (SIGINT, SIGTERM) as they are.
import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(realpathSync(fileURLToPath(import.meta.url))), "..");
const { register } = await import("tsx/esm/api");
register({ tsconfig: join(root, "tsconfig.json") });
const { runCli } = await import(pathToFileURL(join(root, "lib", "cli", "index.ts")).href);
await runCli(process.argv.slice(2));
