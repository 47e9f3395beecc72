/**
 * Every TypeScript code block in README.md is executed, one test per block.
 *
 * Rules for README authors:
 *  - A block fenced as ```ts (or ```typescript) is run. Other languages (```sh, ```text, ...) are not.
 *  - Every ts block runs ON ITS OWN, in a fresh process: it must be self-contained, with its own
 *    imports and its own data. It cannot use variables or imports from an earlier block.
 *  - Import from "fluxion" (or "fluxion/laws") as a user would; the test points those imports at
 *    this checkout's sources.
 *  - To show a block without running it (a fragment, pseudo-code), put `<!-- no-run -->` on the
 *    line above its opening fence. That comment is the only way to skip a block.
 *  - A block passes when it exits with code 0: it fails if it throws (including a ReferenceError
 *    from a name it did not define) or rejects a promise. Top-level await is allowed.
 *  - The README must contain at least one ts block.
 *
 * Blocks run as `.mts` files with tsx (no type checking, as with `npx tsx`), several at a time.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The README to check; FLUXION_README points the test at another file (to test this harness). */
const README = process.env.FLUXION_README ?? join(ROOT, "README.md");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const BLOCK_TIMEOUT_MS = 30_000;

interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  /** The nearest heading above the block. */
  section: string;
  code: string;
  skip: boolean;
}

const RUN_LANGS = new Set(["ts", "typescript"]);
const NO_RUN = /^\s*<!--\s*no-run\s*-->\s*$/;

/** The fenced code blocks of a markdown document whose language is ts/typescript. */
function tsBlocks(markdown: string): Block[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: Block[] = [];
  let section = "(top)";
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,6}\s+(.*)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang, info] = open as unknown as [string, string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    while (j < lines.length && !close.test(lines[j]!)) body.push(lines[j++]!.slice(indent.length));
    if (RUN_LANGS.has(lang.toLowerCase())) {
      if (/\bno-?run\b/i.test(info)) {
        throw new Error(`README.md line ${i + 1}: mark a block that must not run with <!-- no-run --> on the line above, not in the fence`);
      }
      blocks.push({ line: i + 1, section, code: body.join("\n"), skip: i > 0 && NO_RUN.test(lines[i - 1]!) });
    }
    i = j; // skip past the closing fence (so a "# comment" inside a block is no heading)
  }
  return blocks;
}

/** Points `from "fluxion"` / `from "fluxion/laws"` (and dynamic imports of them) at this checkout. */
function rewriteImports(code: string): string {
  const target = (sub: string | undefined) => pathToFileURL(join(ROOT, sub === undefined ? "src/index.js" : "laws/index.js")).href;
  return code.replace(/(["'])fluxion(\/laws)?\1/g, (_m, q: string, sub: string | undefined) => `${q}${target(sub)}${q}`);
}

/** Runs a file with tsx; resolves with its exit code and output. */
function runTsx(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [file], { cwd: ROOT, timeout: BLOCK_TIMEOUT_MS });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}

const blocks = tsBlocks(readFileSync(README, "utf8"));
const dir = mkdtempSync(join(tmpdir(), "fluxion-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README.md", () => {
  it("has at least one ts code block to run", () => {
    expect(blocks.filter((b) => !b.skip).length, "README.md has no ```ts block that runs").toBeGreaterThan(0);
  });

  blocks.forEach((block, k) => {
    const name = `block ${k + 1} (line ${block.line}, "${block.section}") runs on its own`;
    if (block.skip) {
      it.skip(`${name} [<!-- no-run -->]`, () => {});
      return;
    }
    it.concurrent(
      name,
      async () => {
        const file = join(dir, `block-${String(k + 1).padStart(2, "0")}-line-${block.line}.mts`);
        writeFileSync(file, `${rewriteImports(block.code)}\n`);
        const { code, signal, output } = await runTsx(file);
        const why = signal !== null ? `was killed (${signal}; timeout ${BLOCK_TIMEOUT_MS} ms)` : `exited with code ${code}`;
        expect(
          code,
          `README.md block at line ${block.line} ${why}.\n` +
            `Each block must be self-contained (its own imports and data).\n--- block ---\n${block.code}\n--- output ---\n${output}`,
        ).toBe(0);
      },
      BLOCK_TIMEOUT_MS + 10_000,
    );
  });
});
