/**
 * Vite config of the browser demo (web/). `npm run web:dev` serves it, `npm run web:build`
 * bundles it into web/dist. The library is imported from ../src directly (TypeScript sources).
 *
 * The WebGPU backend imports the Node-only `webgpu` package (Dawn bindings) lazily, only when
 * `navigator.gpu` is missing and the code runs in Node; in the browser it is aliased to an empty
 * module so it is neither pre-bundled nor shipped.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const web = fileURLToPath(new URL(".", import.meta.url));
const repo = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root: web,
  base: "./",
  // Its own pre-bundling cache, apart from node_modules/.vite (which vitest uses).
  cacheDir: fileURLToPath(new URL("../node_modules/.vite-web", import.meta.url)),
  resolve: {
    alias: [{ find: /^webgpu$/, replacement: fileURLToPath(new URL("./node_stub.ts", import.meta.url)) }],
  },
  server: {
    host: "127.0.0.1",
    fs: { allow: [repo] },
  },
  preview: { host: "127.0.0.1" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
  },
  logLevel: "info",
});
