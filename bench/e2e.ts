/**
 * End to end: a generated NQ options session (DBN v3 file) → decode → books → direction → windows →
 * SQLite, through the real `replay` command in a child process, so peak RSS is the pipeline's own. Also the cost of
 * starting the command (`--help`): module loading is paid by every run.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { weekdaysEnding } from "../src/sim/Calendar.js"
import type { Section } from "./run.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const main = path.join(root, "dist/main.js")
/** GNU time reports the child's CPU time and peak RSS; without it only wall time and the command's own RSS line. */
const gnuTime = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined

interface Run {
  readonly stdout: string
  /** Whole process, seconds (undefined without GNU time). */
  readonly wallS: number | undefined
  readonly cpuS: number | undefined
  readonly maxRssMb: number | undefined
}

const node = (args: ReadonlyArray<string>): Run => {
  const argv = [main, ...args]
  const r = gnuTime === undefined
    ? spawnSync(process.execPath, argv, { encoding: "utf8", maxBuffer: 1 << 26 })
    : spawnSync(gnuTime, ["-f", "IFD_TIME %e %U %S %M", process.execPath, ...argv], { encoding: "utf8", maxBuffer: 1 << 26 })
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`)
  const m = /IFD_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr)
  return {
    stdout: r.stdout,
    wallS: m === null ? undefined : Number(m[1]),
    cpuS: m === null ? undefined : Number(m[2]) + Number(m[3]),
    maxRssMb: m === null ? undefined : Number(m[4]) / 1024
  }
}

const field = (out: string, name: string): string => {
  const m = new RegExp(`^${name}\\s+(.*)$`, "m").exec(out)
  return m?.[1] ?? "?"
}

const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const medianOf = (xs: ReadonlyArray<number | undefined>): number | undefined =>
  xs.some((x) => x === undefined) ? undefined : median(xs as ReadonlyArray<number>)
const rate = (records: number, s: number | undefined) => s === undefined ? "–" : `${(records / s / 1e6).toFixed(2)} M/s`

/**
 * t = F + w·windows + r·records solved through the three sessions' best runs: what a run costs once, per 5-minute
 * window and per record. The windows depend on the chain and the session's length, not on the number of records, so
 * a session's rate depends on how many records it has per window.
 */
const costModel = (
  runs: ReadonlyArray<{ readonly records: number; readonly windows: number; readonly bestS: number }>
): Array<string> => {
  const x = solve3(runs.map((r) => [1, r.windows, r.records]), runs.map((r) => r.bestS))
  if (x === undefined) return ["Cost model: the sessions' shapes leave it undetermined."]
  const [f, w, r] = x as [number, number, number]
  return [
    `Cost model, solved through each session's best run: t = F + w·windows + r·records with F = ${f.toFixed(2)} s, ` +
    `w = ${(w * 1e6).toFixed(1)} µs per window, r = ${(r * 1e9).toFixed(0)} ns per record ` +
    `(a marginal ${(1e-6 / r).toFixed(1)} M records/s). Windows per session: ` +
    `${runs.map((s) => s.windows.toLocaleString("en-US")).join(", ")}. Only the smallest session tells F from w ` +
    "apart, so their split moves from run to run; r, set by the two larger ones, is the steady figure."
  ]
}

/** Gaussian elimination with partial pivoting for a 3×3 system; undefined when it is singular. */
const solve3 = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<number>): Array<number> | undefined => {
  const m = a.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < 3; c++) {
    let p = c
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r
    if (Math.abs(m[p]![c]!) < 1e-12) return undefined
    ;[m[c], m[p]] = [m[p]!, m[c]!]
    for (let r = 0; r < 3; r++) {
      if (r === c) continue
      const k = m[r]![c]! / m[c]![c]!
      for (let j = c; j < 4; j++) m[r]![j]! -= k * m[c]![j]!
    }
  }
  return m.map((row, i) => row[3]! / row[i]!)
}

/**
 * History as a quant replays it: a folder of consecutive daily files in one process. Peak RSS must not grow with
 * the number of files (one file is open at a time; books retire after expiry; the baseline history keeps 21 days).
 */
const manyDays = (dir: string): Array<string> => {
  const days = path.join(dir, "days")
  fs.mkdirSync(days)
  const dates = weekdaysEnding("2026-11-18", 10)
  for (const [d, date] of dates.entries()) {
    node(["sim", "--out", path.join(days, `${date}.dbn`), "--records", "1000000", "--seed", String(1 + d), "--date", date])
  }
  const replay = (what: string) => {
    const db = path.join(dir, "days.sqlite")
    const r = node(["replay", what, "--db", db])
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(db + suffix, { force: true })
    return r
  }
  const one = replay(path.join(days, `${dates[0]}.dbn`))
  const all = replay(days)
  const rss = (r: Run) => r.maxRssMb === undefined ? "?" : `${r.maxRssMb.toFixed(0)} MB`
  fs.rmSync(days, { recursive: true, force: true })
  return [
    `Ten consecutive trading days of 1M records each, replayed from one folder in one process: peak RSS ${rss(all)} ` +
    `(${rss(one)} for the first day alone), ${field(all.stdout, "records")} records at ` +
    `${field(all.stdout, "elapsed")}.`
  ]
}

export const benchEndToEnd = async (): Promise<Section> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ifd-bench-"))
  const lines: Array<string> = []
  try {
    const help = Array.from({ length: 5 }, () => node(["--help"]))
    const helpWall = medianOf(help.map((h) => h.wallS))
    const helpCpu = medianOf(help.map((h) => h.cpuS))
    const helpRss = medianOf(help.map((h) => h.maxRssMb))
    lines.push(
      "| session | records | file | pipeline (wall) | process (wall) | process (CPU) | peak RSS | runs |",
      "|---|---|---|---|---|---|---|---|"
    )
    const fit: Array<{ readonly records: number; readonly windows: number; readonly bestS: number }> = []
    /** Replays `file` `runs` times into fresh databases; one table row, and the session's figures for the fit. */
    const session = (label: string, file: string, runs: number) => {
      const size = fs.statSync(file).size
      const results: Array<Run & { readonly pipelineRate: number; readonly pipelineS: number }> = []
      for (let i = 0; i < runs; i++) {
        const db = path.join(dir, `b-${i}.sqlite`)
        const r = node(["replay", file, "--db", db])
        const m = /^([\d.]+) s \(([\d.]+) M records\/s\)/.exec(field(r.stdout, "elapsed"))
        results.push({ ...r, pipelineS: Number(m?.[1] ?? Number.NaN), pipelineRate: Number(m?.[2] ?? Number.NaN) })
        for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(db + suffix, { force: true })
      }
      const out = results[results.length - 1]!.stdout
      const n = Number(field(out, "records").replace(/ .*/, "").replace(/,/g, ""))
      const windows = Number(field(out, "windows").replace(/ .*/, "").replace(/,/g, ""))
      const rss = medianOf(results.map((r) => r.maxRssMb))
      lines.push(
        `| ${label} | ${field(out, "records")} | ${(size / 2 ** 20).toFixed(0)} MiB | ` +
          `${median(results.map((r) => r.pipelineRate)).toFixed(2)} M/s (best ${Math.max(...results.map((r) => r.pipelineRate)).toFixed(2)}) | ` +
          `${rate(n, medianOf(results.map((r) => r.wallS)))} | ` +
          `${rate(n, medianOf(results.map((r) => r.cpuS)))} | ` +
          `${rss === undefined ? field(out, "peak RSS") : `${rss.toFixed(0)} MB`} | ${runs} |`
      )
      return { records: n, windows, bestS: Math.min(...results.map((r) => r.pipelineS)) }
    }
    for (const records of [1_000_000, 5_000_000, 20_000_000]) {
      const file = path.join(dir, `s${records}.dbn`)
      node(["sim", "--out", file, "--records", String(records), "--seed", "1"])
      fit.push(session(`seed 1, ${records.toLocaleString("en-US")} target`, file, records > 5_000_000 ? 5 : 7))
      if (records === 5_000_000) {
        // The same session as Databento delivers history: zstd-compressed (`sim` writes .zst names at level 3).
        const zst = `${file}.zst`
        node(["sim", "--out", zst, "--records", String(records), "--seed", "1"])
        session(`the same 5M session, \`.dbn.zst\``, zst, 5)
        fs.rmSync(zst, { force: true })
      }
      fs.rmSync(file, { force: true })
    }
    lines.push("", ...costModel(fit))
    lines.push("", ...manyDays(dir))
    lines.push(
      "",
      `Startup, \`node dist/main.js --help\` (median of 5): ${helpWall?.toFixed(2) ?? "?"} s wall, ` +
        `${helpCpu?.toFixed(2) ?? "?"} s CPU, peak RSS ${helpRss?.toFixed(0) ?? "?"} MB.`,
      "",
      "Each run is a fresh process: `node dist/main.js replay FILE --db NEW.sqlite` (file read in 1 MiB chunks into one",
      "reused buffer; closed windows and their signals held up to a second, then upserted in one transaction).",
      "Records/s columns, medians over the runs:",
      "*pipeline* is the command's own figure (records ÷ wall time from the first chunk to the last write, module",
      "loading excluded), with the best run beside the median (on a shared VM, noise only ever slows a run down);",
      "*process* divides by the whole process's wall time or CPU time (user + system, all threads,",
      "startup included) as GNU time reports them. Peak RSS is the process's maxRSS (median)."
    )
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return { title: "End to end (replay → SQLite)", lines }
}
