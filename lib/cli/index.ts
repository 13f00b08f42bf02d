/**
 * The `slotsync` command-line framework. Commands live in `lib/cli/commands/<name>.ts`, each
 * exporting a {@link CliCommand} made with {@link defineCommand}, and are registered in the one
 * list in `lib/cli/main.ts` (the entry point, not re-exported here so that command modules can
 * import this index without an import cycle).
 */

export {
  connectDatabase,
  connectError,
  createPool,
  DatabaseConnectError,
  describePgUrl,
  isTransientDatabaseError,
} from "../database";
export { redactUrl } from "../security";
export {
  type CliCommand,
  type CliIo,
  type CommandContext,
  defineCommand,
  EXIT,
  type FlagSpec,
  type FlagSpecs,
  type FlagType,
  type FlagValue,
  type FlagValues,
  type TextOutput,
} from "./command";
export { type CliEnv, type CliEnvOptions, loadCliEnv, parseEnvText } from "./env-file";
export { configProblemLines, errorLine, reportError } from "./errors";
export { closest, formatHelp, GLOBAL_FLAGS, parseFlags, UsageError } from "./flags";
export {
  type CliLogger,
  createLogger,
  formatBytes,
  formatDuration,
  formatTable,
  type LoggerOptions,
  type LogLevel,
  writeAwait,
} from "./output";
export { ProgressBar, type ProgressOptions } from "./progress";
