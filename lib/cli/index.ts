/**
 * The `slotsync` command line. `runCli` is the entry point (bin/slotsync.js); commands live in
 * `lib/cli/commands/<name>.ts`, each exporting a command made with `defineCommand`
 * (lib/cli/command.ts), and are registered in the one list in `lib/cli/main.ts`. Command modules
 * import the framework's files directly, never this index, so it can re-export the entry point.
 * `generatedReferences` renders the configuration and CLI references (`npm run docs`).
 */
export { generatedReferences } from "./docs";
export { runCli } from "./main";
