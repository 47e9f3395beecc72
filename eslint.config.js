// Lint rules: typescript-eslint's recommended set with type information, plus the project's
// safety rules. Generated code is compiled with `new Function` only in the code-generation modules
// listed below (which emit fixed tokens and numbers they format themselves); nowhere else may
// turn text into code.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const codegen = [
  "interpreters/jit/compile.ts",
  "interpreters/jit/wasm_pool.ts",
  "interpreters/eval/kernels/elementwise.ts",
  "interpreters/eval/kernels/strided.ts",
  "interpreters/eval/kernels/matmul_engine.ts",
];

export default tseslint.config(
  { ignores: ["dist/", "docs/api/", "web/dist/", ".gpu-bench/", "coverage/", "**/*.js", "**/*.mjs"] },
  {
    files: ["**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "no-eval": "error",
      "no-new-func": "error",
      "no-implied-eval": "off",
      "@typescript-eslint/no-implied-eval": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // `any` is refused in the public API's declarations (below), not in internal code.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: codegen,
    rules: { "no-new-func": "off", "@typescript-eslint/no-implied-eval": "off" },
  },
);
