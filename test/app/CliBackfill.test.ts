import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cli } from "../support/Cli.js"
import { makeTempDir } from "../support/TempDir.js"

// `backfill --days` and `--gaps` are alternatives, checked before any key, store or request is needed.
describe("backfill on the command line", () => {
  it("fails with a one-line error when given neither --days nor --gaps, or both", async () => {
    const dir = makeTempDir()
    try {
      const db = path.join(dir, "x.sqlite")
      for (const args of [[], ["--days", "2", "--gaps"]]) {
        const r = await cli(["backfill", ...args, "--db", db])
        assert.notStrictEqual(r.code, 0)
        assert.match(r.stderr, /--days N.*--gaps/)
        assert.strictEqual(r.stderr.trim().split("\n").length, 1)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("with --gaps and no pending gap says so and exits 0", async () => {
    const dir = makeTempDir()
    try {
      const r = await cli(["backfill", "--gaps", "--db", path.join(dir, "x.sqlite")])
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(r.stdout, "no pending gaps")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
