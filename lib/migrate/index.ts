/**
 * Taking over from PGSync: find what it left in the database and the cluster, and remove it once
 * slotsync serves the same index names.
 */
export { findPgsyncArtefacts, type PgsyncArtefacts, pgsyncSlotName } from "./artefacts";
export {
  backupName,
  describePlan,
  dropPgsync,
  dropStatements,
  type MigrationProgress,
  type MigrationStep,
  readProgress,
  writeProgress,
} from "./plan";
