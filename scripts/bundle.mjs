/**
 * `npm run build`, second step: bundles src/main.ts and everything it imports (Effect, @effect/*, fzstd) into one ESM
 * file, dist/main.js, over the one `tsc` wrote. One module instead of ~1,500 to resolve and compile at startup, and
 * only the code the commands reach (tree-shaken): `node dist/main.js --help` starts faster and holds less memory.
 * Native modules (better-sqlite3, its .node binding) and packages with optional native parts stay external and load
 * from node_modules as before. `tsc` still emits dist/<folder>/*.js next to it, for anything that imports modules one by one.
 */
import * as esbuild from "esbuild"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Loaded from node_modules at run time: native bindings, or optional native add-ons looked up by name. */
export const external = ["better-sqlite3", "msgpackr", "msgpackr-extract", "@parcel/watcher", "bufferutil", "utf-8-validate"]

await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external,
  treeShaking: true,
  minifySyntax: true,
  minifyWhitespace: true,
  // Identifiers stay readable in stack traces and profiles.
  minifyIdentifiers: false,
  keepNames: false,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies bundled into ESM still call `require` for Node built-ins.
  banner: { js: "import { createRequire as __ifdCreateRequire } from \"node:module\"; const require = __ifdCreateRequire(import.meta.url);" }
})
