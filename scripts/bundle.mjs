/**
 * `npm run build`, second step: bundles src/main.ts and everything it imports (Effect, @effect/*) into one
 * CommonJS file, dist/app.cjs: one module instead of ~1,500 to resolve and compile at startup, and only the code the
 * commands reach (tree-shaken). dist/main.js (over the one `tsc` wrote) becomes scripts/entry.mjs, which loads the
 * bundle through V8's code cache; the build writes that cache by running `--help` once.
 * Native modules (better-sqlite3 and zstd-napi, with their .node bindings) and packages with optional native parts
 * stay external and load from node_modules as before. `tsc` still emits dist/<folder>/*.js next to it, for anything that imports modules one by one.
 */
import * as esbuild from "esbuild"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Loaded from node_modules at run time: native bindings, or optional native add-ons looked up by name. */
export const external = ["better-sqlite3", "zstd-napi", "msgpackr", "msgpackr-extract", "@parcel/watcher", "bufferutil", "utf-8-validate"]

await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["src/main.ts"],
  outfile: "dist/app.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
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
  logLevel: "warning"
})

const dist = path.join(root, "dist")
const hash = createHash("sha256").update(fs.readFileSync(path.join(dist, "app.cjs"))).digest("hex").slice(0, 16)
for (const f of fs.readdirSync(dist)) if (/^app\..*\.cache/.test(f)) fs.rmSync(path.join(dist, f))
fs.writeFileSync(
  path.join(dist, "main.js"),
  fs.readFileSync(path.join(root, "scripts/entry.mjs"), "utf8").replace("__BUNDLE_HASH__", hash)
)
fs.rmSync(path.join(dist, "main.js.map"), { force: true })
// One run writes the code cache every later start reads.
const warm = spawnSync(process.execPath, [path.join(dist, "main.js"), "--help"], { stdio: "ignore" })
if (warm.status !== 0 || !fs.existsSync(path.join(dist, `app.${hash}.cache`))) {
  console.warn("bundle: no code cache was written; every start will compile the bundle")
}
