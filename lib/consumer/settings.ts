import { type Env, EnvReader } from "../config";
import { type ConsumerOptions, DEFAULT_CONSUMER_OPTIONS, DEFAULT_LOOK_AHEAD } from "./types";

/** Most chunks a consumer may build ahead of the write in flight: each one is held in memory. */
export const MAX_LOOK_AHEAD = 8;

/**
 * Reads the consumer's options from an environment map (the library never reads `process.env`):
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `CONSUMER_LOOK_AHEAD` | 1 | chunks of documents built while the previous chunk's bulk request is in flight (0: build, then write, in turn) |
 *
 * @throws ConfigError naming every bad variable.
 */
export function consumerOptionsFromEnv(env: Env): ConsumerOptions {
  const r = new EnvReader(env);
  const lookAhead = r.number("CONSUMER_LOOK_AHEAD", DEFAULT_LOOK_AHEAD, {
    min: 0,
    max: MAX_LOOK_AHEAD,
    integer: true,
  });
  r.throwIfProblems();
  return { ...DEFAULT_CONSUMER_OPTIONS, lookAhead };
}
