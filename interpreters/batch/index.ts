/**
 * The batch interpreter's public face: installs the rule table and re-exports what the façade needs.
 */
import { installBatchRules } from "./interpreter.js";
import { batchRules } from "./rules.js";

installBatchRules(batchRules);

export { BatchInterpreter, BatchTracer } from "./interpreter.js";
export { batchRules, withBatch } from "./rules.js";
