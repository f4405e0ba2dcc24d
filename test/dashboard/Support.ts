/** Shared pieces of the dashboard tests: a seeded SQLite file, headless Chromium, a signal and a window. */
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import * as Pipeline from "../../src/app/Pipeline.js"
import { writeSimFile } from "../../src/app/Replay.js"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import * as ReplaySource from "../../src/source/ReplaySource.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { makeTempDir } from "../support/TempDir.js"

export { buyOnlyWindow, signal } from "../support/Dashboard.js"

/** Debian's chromium; playwright-core never downloads a browser here. */
export const CHROMIUM = "/usr/bin/chromium"

export const launch = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })

/** A small simulated session (two expirations × ten strikes) replayed into a SQLite file; returns its windows. */
export const seed = (dir: string) =>
  Effect.gen(function*() {
    const file = path.join(dir, "session.dbn")
    const db = path.join(dir, "ifd.sqlite")
    yield* writeSimFile(file, { seed: 17, expirations: 2, strikesPerExpiration: 10, targetRecords: 80_000, collectTrades: false })
    yield* Pipeline.run({}).pipe(
      Effect.provide(Layer.merge(ReplaySource.layerFiles([file]), Store.layer({ filename: db })))
    )
    fs.rmSync(file)
    const windows = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(Store.layer({ filename: db })))
    return { db, windows }
  }).pipe(Effect.provide(NodeContext.layer))

/** Distinct (option type, strike, window start) cells of an expiration: what the heatmap must draw. */
export const cellsOf = (windows: ReadonlyArray<PressureWindow>, expiration: string): number =>
  new Set(windows.filter((w) => w.expiration === expiration).map((w) => `${w.optionType}|${w.strike}|${w.windowStart}`)).size

/** The expiration with the most volume (the page's default). */
export const busiest = (windows: ReadonlyArray<PressureWindow>): string => {
  const volume = new Map<string, number>()
  for (const w of windows) {
    volume.set(w.expiration, (volume.get(w.expiration) ?? 0) + w.bidVolume + w.askVolume + w.unknownVolume)
  }
  return [...volume].sort((a, b) => b[1] - a[1])[0]![0]
}

/** Fails on any script error the page reports. */
export const watchErrors = (page: Page): Array<string> => {
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(String(e)))
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text())
  })
  return errors
}

export const isPng = (file: string): boolean => {
  const bytes = fs.readFileSync(file)
  return bytes.length > 1000 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
}

/** A seeded database in a fresh directory and a browser: what each dashboard test file opens before its tests. */
export const openSeeded = async () => {
  const dir = makeTempDir()
  const seeded = await Effect.runPromise(seed(dir))
  return { dir, db: seeded.db, windows: seeded.windows, browser: await launch() }
}

export const closeSeeded = async (opened: { readonly dir?: string; readonly browser?: Browser }) => {
  await opened.browser?.close()
  if (opened.dir !== undefined) fs.rmSync(opened.dir, { recursive: true, force: true })
}
