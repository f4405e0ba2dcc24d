/**
 * End to end: a generated NQ options session (DBN v3 file) → decode → books → direction → windows →
 * SQLite, through the real `replay` command in a child process, so peak RSS is the pipeline's own.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Section } from "./run.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const main = path.join(root, "dist/main.js")

const node = (args: ReadonlyArray<string>) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", maxBuffer: 1 << 26 })
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`)
  return r.stdout
}

const field = (out: string, name: string): string => {
  const m = new RegExp(`^${name}\\s+(.*)$`, "m").exec(out)
  return m?.[1] ?? "?"
}

const median = (xs: Array<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export const benchEndToEnd = async (): Promise<Section> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ifd-bench-"))
  const lines: Array<string> = []
  try {
    lines.push("| session | MBO records | file | end-to-end (median of 3) | peak RSS |", "|---|---|---|---|---|")
    for (const records of [5_000_000, 20_000_000]) {
      const file = path.join(dir, `s${records}.dbn`)
      node(["sim", "--out", file, "--records", String(records), "--seed", "1"])
      const size = fs.statSync(file).size
      const runs = records > 5_000_000 ? 1 : 3
      const rates: Array<number> = []
      let out = ""
      for (let i = 0; i < runs; i++) {
        const db = path.join(dir, `b${records}-${i}.sqlite`)
        out = node(["replay", file, "--db", db])
        const m = /\(([\d.]+) M records\/s\)/.exec(field(out, "elapsed"))
        rates.push(Number(m?.[1] ?? Number.NaN))
      }
      lines.push(
        `| seed 1, ${records.toLocaleString("en-US")} target | ${field(out, "records")} | ${(size / 2 ** 20).toFixed(0)} MiB | ` +
          `${median(rates).toFixed(2)} M records/s${runs === 1 ? " (1 run)" : ""} | ${field(out, "peak RSS")} |`
      )
      fs.rmSync(file, { force: true })
    }
    lines.push(
      "",
      "Each run is a fresh process: `node dist/main.js replay FILE --db NEW.sqlite` (file read in 1 MiB chunks, windows",
      "upserted as they close). RSS is `process.resourceUsage().maxRSS` at the end of the run."
    )
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return { title: "End to end (replay → SQLite)", lines }
}
