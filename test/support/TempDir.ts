/** Scoped temporary directories for tests that need real files (SQLite, DBN). */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "ifd-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A temp directory for plain (non-Effect) tests; the caller removes it. */
export const makeTempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "ifd-test-"))
