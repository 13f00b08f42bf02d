import type { AlertState, BootstrapProgress, Checkpoint, PollerStats } from "../../../lib/checkpoint";
import type { AlertNotifier, MonitorStore, WalAlert } from "../../../lib/monitor";
import type { Queryable } from "../../../lib/schema";

/** A `pg_replication_slots` row as the monitor selects it (text columns, as pg returns them). */
export interface FakeSlot {
  slot_name: string;
  slot_type?: "logical" | "physical";
  plugin?: string | null;
  database?: string | null;
  temporary?: boolean;
  active?: boolean;
  wal_status?: string | null;
  safe_wal_size?: string | null;
  restart_lsn?: string | null;
  confirmed_flush_lsn?: string | null;
  retained_bytes?: string | null;
  flush_lag_bytes?: string | null;
}

/** The server as the monitor's two queries see it: the lowest layer, injected. */
export interface FakeServer {
  versionNum?: number;
  currentLsn?: string;
  /** `max_slot_wal_keep_size` in MB as pg_settings has it ("-1" unlimited). */
  keepSizeMb?: string;
  slots: FakeSlot[];
  /** Makes every query fail with this error. */
  fail?: Error;
}

export function fakeDb(server: FakeServer): Queryable & { queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    async query<R extends object>(text: string): Promise<{ rows: R[] }> {
      queries.push(text);
      if (server.fail) throw server.fail;
      if (text.includes("server_version_num")) {
        const settings: Record<string, { setting: string; unit: string }> = {
          max_wal_size: { setting: "1024", unit: "MB" },
        };
        if (server.keepSizeMb !== undefined) {
          settings.max_slot_wal_keep_size = { setting: server.keepSizeMb, unit: "MB" };
        }
        return {
          rows: [
            {
              version_num: server.versionNum ?? 150018,
              current_lsn: server.currentLsn ?? "0/5000000",
              settings,
            },
          ] as R[],
        };
      }
      if (text.includes("pg_replication_slots")) {
        return {
          rows: server.slots.map((s) => ({
            slot_type: "logical",
            plugin: "wal2json",
            database: "app",
            temporary: false,
            active: false,
            wal_status: "reserved",
            safe_wal_size: null,
            restart_lsn: "0/1000000",
            confirmed_flush_lsn: "0/1000000",
            retained_bytes: "0",
            flush_lag_bytes: "0",
            ...s,
          })) as R[],
        };
      }
      throw new Error(`unexpected query: ${text}`);
    },
  };
}

/** An in-memory checkpoint store with the parts the monitor uses. */
export class MemoryMonitorStore implements MonitorStore {
  alerts = new Map<string, AlertState>();
  stats = new Map<string, PollerStats>();
  checkpoints = new Map<string, Checkpoint>();
  bootstraps = new Map<string, BootstrapProgress>();
  failReads: Error | undefined;
  failWrites: Error | undefined;

  async readStats(slot: string) {
    if (this.failReads) throw this.failReads;
    return this.stats.get(slot) ?? null;
  }
  async readCheckpoint(slot: string) {
    if (this.failReads) throw this.failReads;
    return this.checkpoints.get(slot) ?? null;
  }
  async listBootstraps(slot: string) {
    if (this.failReads) throw this.failReads;
    const b = this.bootstraps.get(slot);
    return b ? [b.bootstrapId] : [];
  }
  async readBootstrap(slot: string, id: string) {
    const b = this.bootstraps.get(slot);
    return b?.bootstrapId === id ? b : null;
  }
  async readAlert(slot: string, name: string) {
    if (this.failReads) throw this.failReads;
    // A copy, as a real store hands back what it parsed.
    const state = this.alerts.get(`${slot}/${name}`);
    return state ? (JSON.parse(JSON.stringify(state)) as AlertState) : null;
  }
  async writeAlert(slot: string, name: string, state: AlertState) {
    if (this.failWrites) throw this.failWrites;
    this.alerts.set(`${slot}/${name}`, JSON.parse(JSON.stringify(state)) as AlertState);
  }
}

/** A notifier that records what it was given, or fails. */
export class RecordingNotifier implements AlertNotifier {
  readonly sent: WalAlert[] = [];
  fail: Error | undefined;
  constructor(readonly channel = "test") {}
  async notify(alert: WalAlert) {
    if (this.fail) throw this.fail;
    this.sent.push(alert);
  }
}
