import type { IndexBody, SearchSink } from "../../../lib/sink";

/**
 * The index-management part of a search engine, in memory: concrete indices, aliases, and what
 * was asked of it. Writes and reads of documents are not needed by these tests.
 */
export class FakeEngine {
  readonly indices = new Map<string, IndexBody>();
  readonly aliases = new Map<string, string[]>();
  readonly calls: string[] = [];

  sink(): SearchSink {
    const self = this;
    const unsupported = () => {
      throw new Error("not part of the fake engine");
    };
    return {
      engine: "elasticsearch",
      write: unsupported,
      scan: unsupported,
      getDocuments: unsupported,
      locate: unsupported,
      count: unsupported,
      info: unsupported,
      cloneIndex: unsupported,
      mappedFields: unsupported,
      sampleDocuments: unsupported,
      scanIds: unsupported,
      close: async () => undefined,
      async createIndex(name: string, body: IndexBody = {}) {
        self.calls.push(`create ${name}`);
        if (self.indices.has(name)) return { created: false };
        self.indices.set(name, body);
        return { created: true };
      },
      async deleteIndex(name: string) {
        self.calls.push(`delete ${name}`);
        if (!self.indices.delete(name)) return { deleted: false };
        for (const [alias, targets] of self.aliases) {
          self.aliases.set(
            alias,
            targets.filter((t) => t !== name),
          );
        }
        return { deleted: true };
      },
      async indexExists(name: string) {
        return self.indices.has(name) || (self.aliases.get(name)?.length ?? 0) > 0;
      },
      async getAliasTargets(alias: string) {
        return [...(self.aliases.get(alias) ?? [])].sort();
      },
      async swapAlias(alias: string, index: string, options: { replaceIndex?: boolean } = {}) {
        self.calls.push(`swap ${alias} -> ${index}`);
        const previous = [...(self.aliases.get(alias) ?? [])];
        if (previous.length === 0 && self.indices.has(alias)) {
          if (!options.replaceIndex) throw new Error(`"${alias}" is an index, not an alias`);
          self.indices.delete(alias);
        }
        self.aliases.set(alias, [index]);
        return { previous };
      },
      async refresh(name: string) {
        self.calls.push(`refresh ${name}`);
      },
    };
  }
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(public ms = Date.parse("2026-01-21T10:00:00.000Z")) {}
  now = (): number => this.ms;
  sleep = async (ms: number): Promise<void> => {
    this.ms += ms;
  };
}
