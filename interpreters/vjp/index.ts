/**
 * Reverse mode's transposition, wired: installs the transpose rules and re-exports.
 */
import { installTransposeRules } from "./transpose.js";
import { transposeRules } from "./rules.js";

installTransposeRules(transposeRules);

export { UndefPrimal, transposeProgram } from "./transpose.js";
export { transposeRules } from "./rules.js";
