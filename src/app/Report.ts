/**
 * `report`: the dashboard's views of one stored day (heatmap per expiration, signal feed) as one self-contained
 * HTML file. Issue 7 (dashboard).
 */
import { Clock, Console, Data, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Report from "../dashboard/Report.js"
import * as DashboardRepo from "../store/DashboardRepo.js"
import * as Store from "../store/Store.js"

export class ReportError extends Data.TaggedError("ReportError")<{
  readonly reason: "NoDatabase" | "NoWindows" | "Write"
  readonly detail: string
}> {
  override get message() {
    return this.detail
  }
}

export interface ReportOptions {
  readonly db: string | undefined
  /** UTC day, YYYY-MM-DD; default the day of the latest stored window. */
  readonly day: string | undefined
  /** Only this expiration; default every expiration of the day. */
  readonly expiration: string | undefined
  readonly out: string
}

/** Reads the day from the database and builds the report's data. */
export const load = (options: Omit<ReportOptions, "out" | "db"> & { readonly source: string }) =>
  Effect.gen(function*() {
    const repo = yield* DashboardRepo.fromContext
    const day = options.day ?? (yield* repo.latestDay())
    if (day === undefined) {
      return yield* new ReportError({ reason: "NoWindows", detail: `no windows stored in ${options.source}` })
    }
    const all = yield* repo.expirations(day)
    const expirations = options.expiration === undefined ? all : all.filter((e) => e.expiration === options.expiration)
    if (expirations.length === 0) {
      const which = options.expiration === undefined ? "" : ` for expiration ${options.expiration}`
      const known = all.length === 0 ? "" : ` (expirations that day: ${all.map((e) => e.expiration).join(", ")})`
      return yield* new ReportError({
        reason: "NoWindows",
        detail: `no windows stored in ${options.source} on ${day}${which}${known}`
      })
    }
    const windows = yield* repo.windows(day, options.expiration)
    const underlying = yield* repo.underlying(day, options.expiration)
    const signals = (yield* repo.signals(day)).filter((s) =>
      options.expiration === undefined || s.expiration === options.expiration
    )
    const data: Report.ReportData = {
      day,
      generatedAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
      source: options.source,
      expirations,
      windows,
      underlying,
      signals,
      expiration: options.expiration
    }
    return data
  })

export const run = (options: ReportOptions) =>
  Effect.gen(function*() {
    const db = options.db ?? process.env.IFD_DB ?? "./ifd.sqlite"
    // Opening a missing file would create an empty database: say so instead.
    if (!fs.existsSync(db)) return yield* new ReportError({ reason: "NoDatabase", detail: `no database at ${db}` })
    const data = yield* load({ day: options.day, expiration: options.expiration, source: path.basename(db) }).pipe(
      Effect.provide(Store.layer({ filename: db }))
    )
    const html = Report.html(data)
    yield* Effect.try({
      try: () => fs.writeFileSync(options.out, html),
      catch: () => new ReportError({ reason: "Write", detail: `could not write ${options.out}` })
    })
    yield* Console.log(
      `wrote ${options.out}: ${data.day}, ${data.expirations.length} expiration(s), ${data.windows.length} windows, ` +
        `${data.signals.length} signals (${(html.length / 1024).toFixed(0)} KiB)`
    )
  })
