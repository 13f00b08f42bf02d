/** The tests' way to the running local services (tools/services keeps the one implementation). */
export { getServices } from "../../tools/services";
