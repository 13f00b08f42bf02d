import { SlotsyncError } from "../errors";

/** Building documents failed: bad keys, a query error, a transform that cannot apply. */
export class DocumentError extends SlotsyncError {}

/** A plugin could not be found or loaded, or threw while transforming a document. */
export class PluginError extends SlotsyncError {}
