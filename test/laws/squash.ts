/** Shared by the law coverage entries: float output leaves through tanh, so second-order laws see curvature (linear primitives included). */
import { type NDArray, np, tree } from "../../src/index.js";

type Fn = (...args: any[]) => unknown;

export const squash =
  (f: Fn): Fn =>
  (...a) =>
    tree.map(
      (l: unknown) => {
        const x = l as NDArray;
        return x.dtype === "float32" || x.dtype === "float64" ? np.tanh(x) : x;
      },
      f(...a),
    );
