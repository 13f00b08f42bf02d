import { ensureServices, type ServiceName, stopServices } from "../../tools/services";

let started: ServiceName[] = [];

/** Starts the services the integration tests need, unless they already run. */
export async function setup(): Promise<void> {
  const quiet = process.env.SLOTSYNC_SERVICES_QUIET === "1";
  const result = await ensureServices(undefined, (line) => {
    if (!quiet) console.log(`[services] ${line}`);
  });
  started = result.started;
}

/** Stops only what `setup` started, so services a developer started by hand keep running. */
export async function teardown(): Promise<void> {
  if (started.length > 0) await stopServices(started);
}
