import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser } from "playwright-core"
import { writeSimFile } from "../../src/app/Replay.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import { main } from "../support/Cli.js"
import { makeTempDir } from "../support/TempDir.js"
import { cellsOf, launch, watchErrors } from "./Support.js"


let dir: string
let browser: Browser
let child: ChildProcess | undefined

beforeAll(async () => {
  dir = makeTempDir()
  browser = await launch()
})

afterAll(async () => {
  await browser?.close()
  if (child !== undefined && child.exitCode === null) child.kill("SIGKILL")
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe("replay --serve", () => {
  it("serves the dashboard during a paced replay: cells appear without a reload and match SQLite at the end", async () => {
    const file = path.join(dir, "session.dbn")
    const db = path.join(dir, "ifd.sqlite")
    await Effect.runPromise(
      writeSimFile(file, { seed: 29, expirations: 2, strikesPerExpiration: 8, targetRecords: 60_000, collectTrades: false })
    )
    // The simulated session spans 6.5 hours of event time: at 2500× it takes about 9 s.
    const proc = spawn(process.execPath, [main, "replay", file, "--db", db, "--serve", "--speed", "2500"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, IFD_CONTROL_PORT: "0", IFD_CONTROL_HOST: "127.0.0.1" }
    })
    child = proc
    let stderr = ""
    proc.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    proc.stdout!.resume()
    const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)))

    await until("the control interface", () => /url=http:\/\/127\.0\.0\.1:\d+/.test(stderr))
    const base = /url=(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } })
    const errors = watchErrors(page)
    await page.goto(`${base}/`)
    await page.waitForSelector("body[data-ready='1'][data-sse='open']")
    await page.evaluate("window.marker = 7")
    const count = () => page.locator("#heatmap rect.cell").count()
    const early = await count()

    await until("the end of the replay", () => stderr.includes("replay done"))
    const expiration = await page.$eval("#expiration", (e) => (e as unknown as { value: string }).value)
    const windows = await Effect.runPromise(
      Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(Store.layer({ filename: db })))
    )
    const expected = cellsOf(windows, expiration)
    await until("every stored cell on the page", async () => (await count()) === expected, 10_000)
    assert.isBelow(early, expected, "cells arrived while the page was open")
    assert.strictEqual(await page.evaluate("window.marker"), 7)
    // The state panel says the replay ran to its end (the status event comes once a second).
    await until("the finished state", async () => (await page.locator("#status").innerText()).includes("replay · finished"), 10_000)
    assert.deepStrictEqual(errors, [])
    await page.close()

    proc.kill("SIGINT")
    assert.strictEqual(await exited, 0, stderr)
  })
})
