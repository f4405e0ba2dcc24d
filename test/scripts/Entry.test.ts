/**
 * dist/main.js (scripts/entry.mjs): the bundle loads through V8's code cache, and a cache that is missing, stale or
 * damaged never stops a command from starting. Runs a copy of the built entry and bundle in a folder of its own.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { makeTempDir } from "../support/TempDir.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const run = (main: string) =>
  new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [main, "--help"], { stdio: ["ignore", "pipe", "ignore"] })
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout }))
  })

describe("entry point", () => {
  it("writes the code cache when it is missing or damaged, keeps a good one, and starts either way", async () => {
    const dir = makeTempDir()
    try {
      const dist = path.join(dir, "dist")
      fs.mkdirSync(dist)
      for (const f of ["main.js", "app.cjs"]) fs.copyFileSync(path.join(root, "dist", f), path.join(dist, f))
      // better-sqlite3 and the other externals resolve from here, as from the repository's own dist/.
      fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"))
      const main = path.join(dist, "main.js")
      const caches = () => fs.readdirSync(dist).filter((f) => f.endsWith(".cache"))

      // The build writes the cache under the bundle's content hash; here there is none yet.
      const hash = /BUNDLE_HASH = "([0-9a-f]{16})"/.exec(fs.readFileSync(main, "utf8"))?.[1]
      assert.isDefined(hash)
      assert.deepStrictEqual(caches(), [])
      const first = await run(main)
      assert.strictEqual(first.code, 0)
      assert.include(first.stdout, "replay")
      assert.deepStrictEqual(caches(), [`app.${hash}.cache`])
      const cache = path.join(dist, `app.${hash}.cache`)
      const written = fs.readFileSync(cache)
      assert.isAbove(written.length, 100_000)

      // An accepted cache is left as it is.
      fs.utimesSync(cache, new Date(0), new Date(0))
      assert.strictEqual((await run(main)).code, 0)
      assert.strictEqual(fs.statSync(cache).mtimeMs, 0)

      // A damaged one is rejected by V8, the command still starts, and a good one replaces it.
      fs.writeFileSync(cache, written.subarray(0, 4096))
      const damaged = await run(main)
      assert.strictEqual(damaged.code, 0)
      assert.strictEqual(damaged.stdout, first.stdout)
      assert.isAbove(fs.statSync(cache).size, 100_000)
      assert.deepStrictEqual(caches(), [`app.${hash}.cache`])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
