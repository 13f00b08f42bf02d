/**
 * The public API of the construct package (`@slotsync/cdk`): the composite construct, its parts,
 * and the ready-made stack with its context reader.
 */
export * from "./construct";
export { type AppSettings, CONTEXT_KEYS, type ContextKey, readSettings } from "./context";
export { SlotsyncStack, type SlotsyncStackProps } from "./stack";
