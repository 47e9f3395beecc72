/**
 * The jvp interpreter's public face: installs the rule table into the interpreter and re-exports
 * what the façade needs.
 */
import { installJvpRules } from "./interpreter.js";
import { jvpRules } from "./rules.js";

installJvpRules(jvpRules);

export { JvpInterpreter, JvpTracer, Zero, type Tangent } from "./interpreter.js";
export { jvpRules, instantiate } from "./rules.js";
