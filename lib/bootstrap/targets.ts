import type { CheckpointStore } from "../checkpoint";
import type { IndexAdmin } from "../sink";
import { readIndexRecord } from "./record";

/** How long a consumer trusts a resolved target list (and how long bootstrap waits for caches to turn over). */
export const DEFAULT_TARGETS_CACHE_MS = 10_000;

export interface TargetResolverOptions {
  slot: string;
  store: Pick<CheckpointStore, "readAlert">;
  sink: Pick<IndexAdmin, "getAliasTargets" | "indexExists">;
  /** Must equal the `targetsCacheMs` bootstrap and reset run with. */
  ttlMs?: number;
  now?: () => number;
}

/** What a write of one batch may say about itself. */
export interface TargetContext {
  /** Set for documents copied by a range message: the bootstrap the range belongs to. */
  bootstrapId?: string;
}

interface Resolved {
  at: number;
  /** The alias (or PGSync's concrete index of that name) when it exists. */
  serving: string[];
  building: { bootstrapId: string; concrete: string } | undefined;
}

/**
 * Where the consumer writes a schema index's documents: the consumer's `targets` dependency.
 *
 * - The alias (or a concrete index of the alias's name being taken over from PGSync), when it
 *   exists: written through, so the engine resolves it at write time and an alias switch needs
 *   no cache update.
 * - The concrete index a bootstrap or re-index is building, until the alias points at it: live
 *   changes reach the new copy as well as the serving one, so both stay in sync.
 * - Nothing exists yet: the index name, as without a resolver.
 *
 * With a `bootstrapId` that is the copy being built, only the new index is returned: a range copy
 * has no business rewriting the serving index (pass it once the consumer forwards it).
 * Results are cached for `ttlMs`; bootstrap waits that long after registering a copy before it
 * sends ranges, so a cache made before the registration has expired by the time it matters.
 */
export class WriteTargetResolver {
  private readonly cache = new Map<string, Resolved>();
  private readonly inflight = new Map<string, Promise<Resolved>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TargetResolverOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TARGETS_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  /** The consumer's `targets(index)`, bound for passing as a function. */
  readonly targets = async (index: string, context: TargetContext = {}): Promise<string[]> => {
    const resolved = await this.resolve(index);
    const building = resolved.building;
    if (building && context.bootstrapId === building.bootstrapId) return [building.concrete];
    const out = [...resolved.serving];
    if (building) out.push(building.concrete);
    return out.length > 0 ? out : [index];
  };

  /** Forgets cached lists (after this process switched an alias, for instance). */
  invalidate(index?: string): void {
    if (index === undefined) this.cache.clear();
    else this.cache.delete(index);
  }

  private async resolve(index: string): Promise<Resolved> {
    const cached = this.cache.get(index);
    if (cached && this.now() - cached.at < this.ttlMs) return cached;
    let pending = this.inflight.get(index);
    if (!pending) {
      pending = this.lookup(index).finally(() => this.inflight.delete(index));
      this.inflight.set(index, pending);
    }
    return pending;
  }

  private async lookup(index: string): Promise<Resolved> {
    // Taken before the reads: an entry is never trusted past ttlMs from when it began.
    const at = this.now();
    const { store, sink, slot } = this.options;
    const [record, aliasTargets] = await Promise.all([
      readIndexRecord(store, slot, index),
      sink.getAliasTargets(index),
    ]);
    const serving = aliasTargets.length > 0 || (await sink.indexExists(index)) ? [index] : [];
    const b = record.building;
    const building =
      b && b.phase === "copying" && !aliasTargets.includes(b.concrete)
        ? { bootstrapId: b.bootstrapId, concrete: b.concrete }
        : undefined;
    const resolved: Resolved = { at, serving, building };
    if (this.ttlMs > 0) this.cache.set(index, resolved);
    return resolved;
  }
}
