/**
 * Taking over from PGSync: find what it left in the database and the cluster, and remove it once
 * slotsync serves the same index names.
 */
export {
  databaseIsClean,
  findPgsyncArtefacts,
  PGSYNC_FUNCTION,
  PGSYNC_META_FIELD,
  PGSYNC_VIEW,
  type PgsyncArtefacts,
  type PgsyncIndex,
  type PgsyncTrigger,
  pgsyncSlotName,
} from "./artefacts";
export {
  backupName,
  describePlan,
  dropPgsync,
  dropStatements,
  MIGRATION_STEPS,
  type MigrationProgress,
  type MigrationStep,
  readProgress,
  writeProgress,
} from "./plan";
