import { recordedEndpoints, type ServiceEndpoints } from "../../tools/services";

/**
 * Endpoints of the real local services, started by the integration project's global setup
 * (test/setup/global-services.ts) or by `npm run services -- start`.
 */
export function getServices(): ServiceEndpoints {
  const endpoints = recordedEndpoints();
  if (!endpoints) {
    throw new Error(
      "no local services recorded: run the integration tests through vitest, or `npm run services -- start`",
    );
  }
  return endpoints;
}
