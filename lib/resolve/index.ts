export { matches as changeFilterMatches, passesChangeFilters } from "./change-filter";
export { changedParents, leafKey } from "./partitions";
export { type AffectedKeys, ChangeResolver } from "./resolver";
export type { RowChange } from "./types";
