/**
 * A poller process for the chaos run: invokes the poller Lambda handler again and again, as the
 * schedule would, configured from the environment. The orchestrator kills it with SIGKILL at
 * random moments and starts a new one.
 */
import { randomBytes } from "node:crypto";
import { handler } from "../../lambdas/poller";

const INVOCATION_MS = Number(process.env.CHAOS_INVOCATION_MS ?? 8000);

async function main(): Promise<void> {
  for (;;) {
    const started = Date.now();
    try {
      const summary = await handler(
        {},
        {
          awsRequestId: randomBytes(6).toString("hex"),
          getRemainingTimeInMillis: () => INVOCATION_MS - (Date.now() - started),
        },
      );
      process.stdout.write(`${JSON.stringify({ poller: summary })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ pollerError: (error as Error).message.slice(0, 200) })}\n`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

void main();
