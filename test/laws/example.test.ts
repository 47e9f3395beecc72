/** Runs the user-suite example in examples/laws (kept out of the default include so it runs once, here). */
import "../../examples/laws/my_functions.test.js";
