import { type Env, EnvReader } from "../config";
import { DEFAULT_GRACE_MS } from "./complete";
import { DEFAULT_RESEND_AFTER_MS } from "./run";
import { DEFAULT_SPLIT_OPTIONS } from "./split";
import { DEFAULT_TARGETS_CACHE_MS } from "./targets";

/** Bootstrap settings every process that takes part must agree on (bootstrap, consumers, monitor, CLI). */
export interface BootstrapSettings {
  /** The poller's EventBridge rule, enabled at the switch; undefined locally. */
  pollerRuleName: string | undefined;
  graceMs: number;
  rangeRows: number;
  resendAfterMs: number;
  /** The consumers' write-target cache TTL, and bootstrap's and reset's wait for it. */
  targetsCacheMs: number;
}

/**
 * Reads the bootstrap settings from an environment map (the library never reads `process.env`):
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `POLLER_RULE_NAME` | unset | the poller's schedule rule, enabled when a copy is switched in |
 * | `REINDEX_GRACE_MINUTES` | 60 | how long an index the alias left is kept before deletion |
 * | `BOOTSTRAP_RANGE_ROWS` | 5000 | root rows per range message |
 * | `BOOTSTRAP_RESEND_MINUTES` | 30 | a sent range not done after this long is re-sent on resume |
 * | `WRITE_TARGETS_CACHE_SECONDS` | 10 | how long consumers cache where to write |
 *
 * @throws ConfigError naming every bad variable.
 */
export function bootstrapSettingsFromEnv(env: Env): BootstrapSettings {
  const r = new EnvReader(env);
  const settings: BootstrapSettings = {
    pollerRuleName: r.string("POLLER_RULE_NAME"),
    graceMs: r.number("REINDEX_GRACE_MINUTES", DEFAULT_GRACE_MS / 60_000, { min: 0, max: 10_080 }) * 60_000,
    rangeRows: r.number("BOOTSTRAP_RANGE_ROWS", DEFAULT_SPLIT_OPTIONS.rangeRows, {
      min: 10,
      max: 1_000_000,
      integer: true,
    }),
    resendAfterMs:
      r.number("BOOTSTRAP_RESEND_MINUTES", DEFAULT_RESEND_AFTER_MS / 60_000, { min: 1, max: 10_080 }) *
      60_000,
    targetsCacheMs:
      r.number("WRITE_TARGETS_CACHE_SECONDS", DEFAULT_TARGETS_CACHE_MS / 1000, { min: 0, max: 300 }) * 1000,
  };
  r.throwIfProblems();
  return settings;
}
