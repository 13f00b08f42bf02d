export { pick, unchanged, usedColumns } from "./anchors";
export { ascendSql } from "./ascend";
export { matches as changeFilterMatches, passesChangeFilters } from "./change-filter";
export { changedParents, type LeafPartition, leafKey, readLeafPartitions } from "./partitions";
export { type AffectedKeys, ChangeResolver, type ResolveOptions, type ResolveStats } from "./resolver";
export type { Anchor, RootKeyText, RowChange, TruncateEffect } from "./types";
