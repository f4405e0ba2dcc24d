/**
 * The one way tests find the shared Databento fixtures: `../shared/fixtures/databento`
 * (override with IFD_FIXTURES). Absent fixtures skip those tests in a user's clone, but fail under CI=true.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

export const fixturesDir: string = process.env.IFD_FIXTURES ?? path.resolve(here, "../../../shared/fixtures/databento")

export const fixturesPresent: boolean = fs.existsSync(path.join(fixturesDir, "README.md"))

if (!fixturesPresent) {
  if (process.env.CI === "true") {
    throw new Error(`Databento fixtures not found at ${fixturesDir} (set IFD_FIXTURES); CI requires them`)
  }
  console.warn(`Databento fixtures not found at ${fixturesDir}: fixture tests are skipped (set IFD_FIXTURES)`)
}

/** Absolute path of a fixture, e.g. `fixture("dbn/test_data.mbo.dbn")`. */
export const fixture = (relative: string): string => path.join(fixturesDir, relative)

/** Reads a fixture whole (fixtures are small; product code streams). */
export const readFixture = (relative: string): Uint8Array => new Uint8Array(fs.readFileSync(fixture(relative)))
