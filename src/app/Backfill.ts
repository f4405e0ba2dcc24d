/**
 * `backfill --days N`: history for the baselines from Databento's historical API. Every day's queries
 * (definitions and MBO of the `NQ.OPT` parent, one RTH session each) are priced first and the whole
 * backfill is refused when it would break the data budget; then each day streams (zstd DBN straight
 * into the decoder, never buffered whole) through the same pipeline as replay.
 */
import { Clock, Console, Effect, Layer, Stream } from "effect"
import { Budget } from "../gate/Budget.js"
import * as Calendar from "../gate/Calendar.js"
import { Historical, type HistoricalError, type Query } from "../historical/Historical.js"
import * as Decode from "../source/Decode.js"
import { MarketDataSource, SourceError } from "../source/MarketDataSource.js"
import * as ReplaySource from "../source/ReplaySource.js"
import * as Store from "../store/Store.js"
import * as Pipeline from "./Pipeline.js"
import { printSummary } from "./Replay.js"

export interface BackfillOptions {
  /** Trading days to fetch, ending the day before `end`. */
  readonly days: number
  /** YYYY-MM-DD (New York); default: today. */
  readonly end?: string | undefined
  readonly symbols?: ReadonlyArray<string> | undefined
}

/** The last `count` RTH sessions strictly before New York day `end`, oldest first (weekends and holidays skipped). */
export const sessionsBefore = (end: Calendar.Day, count: number): Array<Calendar.Session> => {
  const out: Array<Calendar.Session> = []
  for (let d = end - 1; out.length < count && d > end - count * 3 - 14; d--) {
    const s = Calendar.sessionOf(d, Calendar.defaultHours)
    if (s !== undefined) out.push(s)
  }
  return out.reverse()
}

const SCHEMAS = ["definition", "mbo"] as const

const queriesOf = (s: Calendar.Session, symbols: ReadonlyArray<string>): Array<Query> =>
  SCHEMAS.map((schema) => ({
    schema,
    symbols,
    stypeIn: "parent",
    start: BigInt(s.open) * 1_000_000n,
    end: BigInt(s.close) * 1_000_000n
  }))

const toSourceError = (e: HistoricalError | Decode.DbnError): SourceError =>
  e._tag === "DbnError"
    ? new SourceError({ reason: "Decode", detail: e.message, offset: e.offset })
    : new SourceError({ reason: e.status === 401 || e.status === 403 ? "Auth" : "Read", detail: e.message })

export const run = (options: BackfillOptions) =>
  Effect.gen(function*() {
    const historical = yield* Historical
    const budget = yield* Budget
    const endDay = options.end === undefined
      ? Calendar.wallAt(yield* Clock.currentTimeMillis).day
      : Calendar.parseDate(options.end)
    if (endDay === undefined) {
      return yield* new SourceError({ reason: "Config", detail: "--end must be a date, YYYY-MM-DD" })
    }
    const symbols = options.symbols ?? ["NQ.OPT"]
    const sessions = sessionsBefore(endDay, options.days)
    // Price everything before fetching anything: a backfill that can not finish within the budget never starts.
    let total = 0
    for (const s of sessions) {
      for (const q of queriesOf(s, symbols)) total += yield* historical.getCost(q)
    }
    yield* budget.authorize(total, `backfill of ${sessions.length} trading days`)
    yield* Console.error(`backfill: ${sessions.length} trading days, priced at $${total.toFixed(2)}`)
    let windows = 0
    for (const s of sessions) {
      const [definitions, mbo] = queriesOf(s, symbols).map((q) =>
        Decode.decodeStream(historical.getRange(q)).pipe(Stream.mapError(toSourceError))
      )
      // Definitions and MBO are separate queries: merged in ts_event order, definitions come first at a tie.
      const source = MarketDataSource.of({
        name: "historical",
        stream: () => ReplaySource.merge([definitions!, mbo!])
      })
      const summary = yield* Pipeline.run({ progress: true }).pipe(Effect.provideService(MarketDataSource, source))
      windows += summary.windows
      yield* Console.log(`backfill ${s.tradeDate}:`)
      yield* printSummary(summary)
    }
    yield* Console.log(`backfill: ${sessions.length} days, ${windows} windows stored; run \`baseline\` to recompute baselines`)
    return { days: sessions.length, windows, cost: total }
  })

/** The command: the historical client (DATABENTO_API_KEY, IFD_HISTORICAL_URL) over the budget and the store. */
export const command = (options: BackfillOptions & { readonly db: string | undefined }) =>
  run(options).pipe(
    Effect.provide(Historical.Default.pipe(
      Layer.provideMerge(Budget.Default),
      Layer.provideMerge(options.db === undefined ? Store.layerConfig : Store.layer({ filename: options.db }))
    ))
  )
