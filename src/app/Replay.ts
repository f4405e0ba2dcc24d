/**
 * `replay`: DBN files (or, with none, a generated NQ options session) through the pipeline into SQLite,
 * with a progress line while it runs and a summary at the end. Also `sim`, which only writes a session.
 */
import { Console, Deferred, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as SimCalendar from "../sim/Calendar.js"
import { writeSessionFile } from "../sim/SimFile.js"
import * as Simulator from "../sim/Simulator.js"
import * as Truth from "../sim/Truth.js"
import { SourceError } from "../source/MarketDataSource.js"
import * as ReplaySource from "../source/ReplaySource.js"
import * as Store from "../store/Store.js"
import * as Control from "./Control.js"
import * as Pipeline from "./Pipeline.js"
import { StreamStatus } from "./Status.js"

export interface ReplayOptions {
  readonly files: ReadonlyArray<string>
  readonly db: string | undefined
  readonly speed: number
  readonly tradesOut: string | undefined
  readonly seed: number
  readonly records: number | undefined
  /** Generated sessions when no file is given: this many consecutive trading days, the last on the default date. */
  readonly days?: number | undefined
  /** Serve the control interface and dashboard (IFD_CONTROL_*) during the run and after it, until SIGINT or stop. */
  readonly serve?: boolean | undefined
}

/**
 * Writes a simulated session to `file` chunk by chunk (bounded memory; zstd-compressed when the name ends in `.zst`)
 * and returns its truth.
 */
export const writeSimFile = (file: string, params: Partial<Simulator.SimParams>) =>
  Effect.sync(() => {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    return writeSessionFile(file, params)
  })

const simParams = (seed: number, records: number | undefined, date?: string): Partial<Simulator.SimParams> => ({
  seed,
  ...(date === undefined ? {} : { date }),
  ...(records === undefined ? {} : { targetRecords: records }),
  // The trade tape is for evaluations; a replay does not need it in memory.
  collectTrades: false
})

const fmt = (n: number): string => n.toLocaleString("en-US")

export const printSummary = (s: Pipeline.RunSummary) => {
  const st = s.stats
  return Console.log([
    `records        ${fmt(st.records)} (${fmt(st.mboRecords)} MBO)`,
    `trades         ${fmt(st.trades)}: aggressor ${fmt(st.tradesByRule.aggressor)}, quote ${
      fmt(st.tradesByRule.quote)
    }, tick ${fmt(st.tradesByRule.tick)}, none ${fmt(st.tradesByRule.none)}`,
    `windows        ${fmt(s.windows)} stored`,
    `signals        ${fmt(s.signalsReported)} reported${
      s.baselineDays >= s.baselineDaysNeeded
        ? ""
        : ` (baselines from ${s.baselineDays} earlier trading day(s), ${s.baselineDaysNeeded} needed: replay or backfill earlier days first)`
    }`,
    `flagged        ${fmt(st.flagged + st.flaggedSuppressed)} records for review${
      Object.keys(st.flaggedByReason).length === 0
        ? ""
        : ` (${Object.entries(st.flaggedByReason).map(([r, n]) => `${r} ${fmt(n ?? 0)}`).join(", ")})`
    }`,
    `book anomalies duplicate adds ${fmt(st.book.duplicateAdds)}, unknown cancels ${fmt(st.book.unknownCancels)}, unknown modifies ${
      fmt(st.book.unknownModifies)
    }; ts_event fallbacks ${fmt(st.tsEventFallbacks)}`,
    `unknown instr. ${fmt(st.unknownInstrumentRecords)} records`,
    `elapsed        ${(s.elapsedMs / 1000).toFixed(2)} s (${(s.recordsPerSecond / 1e6).toFixed(2)} M records/s)`,
    `peak RSS       ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`
  ].join("\n"))
}

/**
 * The embedded default: `days` simulated sessions on consecutive weekdays ending on the simulator's default date
 * (seeds `seed`, `seed + 1`, …). One day is the main job; six give the last day five days of baseline history, so a
 * first run into a new database can report signals. The files go to a directory of this run's own that is removed
 * when the scope closes: they are written anew on every run, at ~170 MB a day, and two runs never share them.
 */
const generateDays = (seed: number, records: number | undefined, days: number) =>
  Effect.gen(function*() {
    if (!(days >= 1)) return yield* new SourceError({ reason: "Config", detail: `--days must be at least 1 (got ${days})` })
    const dir = yield* Effect.acquireRelease(
      Effect.try({
        try: () => fs.mkdtempSync(path.join(os.tmpdir(), "ifd-stream-")),
        catch: () =>
          new SourceError({
            reason: "Config",
            detail: "could not create a directory for the generated session",
            path: os.tmpdir()
          })
      }),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const dates = SimCalendar.weekdaysEnding(Simulator.defaultParams.date, days)
    const files: Array<string> = []
    for (const [d, date] of dates.entries()) {
      const file = path.join(dir, days === 1 ? `sim-seed${seed}.dbn` : `sim-seed${seed + d}-${date}.dbn`)
      yield* Console.error(
        `replay: no file given, generating an NQ options session (${date}, seed ${seed + d}) into ${file} ` +
          "(removed at the end)"
      )
      yield* writeSimFile(file, simParams(seed + d, records, days === 1 ? undefined : date))
      files.push(file)
    }
    return files
  })

export const run = (options: ReplayOptions) =>
  Effect.scoped(Effect.gen(function*() {
    let files = options.files
    if (files.length === 0) files = yield* generateDays(options.seed, options.records, options.days ?? 1)
    const db = options.db ?? process.env.IFD_DB ?? "./ifd.sqlite"
    const layer = Layer.merge(ReplaySource.layerFiles(files, { speed: options.speed }), Store.layer({ filename: db }))
    if (options.serve === true) return yield* served(files, db, options).pipe(Effect.provide(layer))
    // Paced (`--speed`), the windows are written as they close; as fast as possible, about once a second.
    const summary = yield* Pipeline.run({
      tradesOut: options.tradesOut,
      progress: true,
      commitEveryMs: options.speed > 0 ? 0 : Pipeline.batchCommitMs
    }).pipe(Effect.provide(layer))
    yield* Console.log(`replay of ${files.length} file(s) into ${db}`)
    yield* printSummary(summary)
    return summary
  }))

/** The replay with the control interface up (the dashboard follows it live), kept up after the end until stopped. */
const served = (files: ReadonlyArray<string>, db: string, options: ReplayOptions) =>
  Effect.gen(function*() {
    const status = yield* StreamStatus
    yield* status.setSource("replay")
    yield* status.beginRun
    const run = Pipeline.run({
      tradesOut: options.tradesOut,
      progress: true,
      onSignals: status.onSignals,
      onWindows: status.onWindows,
      onChunk: (stats, windows) => status.recordStats(stats, { windowsStored: windows }),
      around: status.around
    })
    const summary: Pipeline.RunSummary | undefined = yield* Effect.raceFirst(run, Effect.as(Deferred.await(status.stop), undefined))
    if (summary === undefined) return undefined
    yield* status.markFinished
    yield* Console.log(`replay of ${files.length} file(s) into ${db}`)
    yield* printSummary(summary)
    yield* Console.error("replay done; the dashboard stays up until Ctrl-C (or POST /control/stop)")
    yield* Deferred.await(status.stop)
    return summary
  }).pipe(Effect.provide(Layer.provideMerge(Control.layer, StreamStatus.Default)))

/** A trading day for the simulator: a real YYYY-MM-DD calendar date on a weekday. */
const simDate = (date: string) =>
  Effect.try({
    try: () => {
      const wd = SimCalendar.weekday(SimCalendar.parseIsoDate(date))
      if (wd === 0 || wd === 6) throw new Error(`${date} is a weekend`)
      return date
    },
    catch: (e) => new SourceError({ reason: "Config", detail: `--date: ${e instanceof Error ? e.message : String(e)}` })
  })

export const sim = (options: {
  readonly out: string
  readonly seed: number
  readonly records: number | undefined
  readonly date?: string | undefined
  readonly truth: string | undefined
}) =>
  Effect.gen(function*() {
    const date = options.date === undefined ? undefined : yield* simDate(options.date)
    const truth = yield* writeSimFile(options.out, {
      ...simParams(options.seed, options.records, date),
      collectTrades: options.truth !== undefined
    })
    if (options.truth !== undefined) {
      const file = options.truth
      yield* Effect.sync(() => fs.writeFileSync(file, JSON.stringify(Truth.toJson(truth, true), (_k, v) => typeof v === "bigint" ? v.toString() : v)))
    }
    yield* Console.log(`wrote ${options.out}: ${fmt(truth.counts.records)} records, ${fmt(truth.windows.length)} windows, ${truth.episodes.length} episodes`)
  })
