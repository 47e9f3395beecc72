/** Stands in for the Node-only `webgpu` package in the browser bundle (see vite.config.ts). */
export const globals = {};
export function create(): never {
  throw new Error("the `webgpu` package is Node-only; browsers use navigator.gpu");
}
export default { globals, create };
