import type { ConsumerDeps } from "../../lib/consumer";
import type { DeadLetter } from "../../lib/queue";
import type { SearchSink } from "../../lib/sink";

/**
 * Consumer deps with no database, no schema index and no sink: a message for any index is
 * dead-lettered (through `deadLetter`) before a query is made. For unit tests of the consumer loops.
 */
export function noDatabaseDeps(deadLetter: (letters: DeadLetter[]) => Promise<void>): ConsumerDeps {
  return {
    connect: () => Promise.reject(new Error("no database in unit tests")),
    builders: new Map(),
    sink: {} as SearchSink,
    deadLetter,
  };
}
