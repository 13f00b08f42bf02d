/**
 * What slotsync needs of the PostgreSQL server and role, beyond the schema's tables: logical
 * decoding, replication privilege, wal2json, a replication slot, read privileges and replica
 * identity. Used by `slotsync validate` and by bootstrap before it creates the slot.
 */
export { applyReplicaIdentityFixes, checkPrerequisites, inspectDatabase } from "./checks";
export type { DatabaseFacts, PrerequisiteProblem } from "./types";
