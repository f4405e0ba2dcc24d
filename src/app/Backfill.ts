/**
 * `backfill --days N`: history for the baselines from Databento's historical API; `backfill --gaps`: the sessions
 * (RTH, or Globex with IFD_SESSION=globex, as the live stream runs) holding pending gaps of the live feed, re-run
 * whole (windows are upserts, so the day's windows become complete) and their gaps marked recovered. Every session's
 * queries (definitions and MBO of the `NQ.OPT` parent) are priced first and the whole backfill is refused when it
 * would break the data budget; then each session streams (zstd DBN straight into the decoder, never buffered whole)
 * through the same pipeline as replay.
 */
import { Clock, Console, Effect, Layer, Stream } from "effect"
import { Budget } from "../gate/Budget.js"
import * as Calendar from "../gate/Calendar.js"
import * as MarketHours from "../gate/MarketHours.js"
import { Historical, type HistoricalError, type Query } from "../historical/Historical.js"
import * as Decode from "../source/Decode.js"
import { MarketDataSource, SourceError } from "../source/MarketDataSource.js"
import * as ReplaySource from "../source/ReplaySource.js"
import { GapsRepo, type StoredGap } from "../store/GapsRepo.js"
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

export interface GapsOptions {
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

/**
 * The shared part of both forms: prices every query of every session first (refused as a whole over the budget),
 * then streams each session through the pipeline, calling `afterSession` once a session is stored.
 */
const backfillSessions = <E, R>(
  sessions: ReadonlyArray<Calendar.Session>,
  symbols: ReadonlyArray<string>,
  what: string,
  afterSession: (s: Calendar.Session) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const historical = yield* Historical
    const budget = yield* Budget
    // Price everything before fetching anything: a backfill that can not finish within the budget never starts.
    let total = 0
    for (const s of sessions) {
      for (const q of queriesOf(s, symbols)) total += yield* historical.getCost(q)
    }
    yield* budget.authorize(total, what)
    yield* Console.error(`backfill: ${what}, priced at $${total.toFixed(2)}`)
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
      const summary = yield* Pipeline.run({ progress: true, commitEveryMs: Pipeline.batchCommitMs }).pipe(
        Effect.provideService(MarketDataSource, source)
      )
      windows += summary.windows
      yield* Console.log(`backfill ${s.tradeDate}:`)
      yield* printSummary(summary)
      yield* afterSession(s)
    }
    return { windows, cost: total }
  })

export const run = (options: BackfillOptions) =>
  Effect.gen(function*() {
    const endDay = options.end === undefined
      ? Calendar.wallAt(yield* Clock.currentTimeMillis).day
      : Calendar.parseDate(options.end)
    if (endDay === undefined) {
      return yield* new SourceError({ reason: "Config", detail: "--end must be a date, YYYY-MM-DD" })
    }
    const sessions = sessionsBefore(endDay, options.days)
    const { cost, windows } = yield* backfillSessions(
      sessions,
      options.symbols ?? ["NQ.OPT"],
      `backfill of ${sessions.length} trading days`,
      () => Effect.void
    )
    yield* Console.log(`backfill: ${sessions.length} days, ${windows} windows stored; run \`baseline\` to recompute baselines`)
    return { days: sessions.length, windows, cost }
  })

// ---------------------------------------------------------------------------------------------------------------
// backfill --gaps

/** A gap no session covers (or whose bounds can not be placed), left pending. */
export interface UnplacedGap {
  readonly gap: StoredGap
  readonly why: string
}

export interface GapPlan {
  /** The sessions to re-run, oldest first. */
  readonly sessions: ReadonlyArray<Calendar.Session>
  /** By trade date: the gaps whose last session is that one (recovered once it is stored). */
  readonly completes: ReadonlyMap<string, ReadonlyArray<StoredGap>>
  readonly unplaced: ReadonlyArray<UnplacedGap>
}

// A gap longer than this many sessions is not a feed gap but a missing history: `--days` is the tool for that.
const MAX_SESSIONS_PER_GAP = 31

const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString()

/** The sessions overlapping a gap, oldest first, or why there are none. */
const sessionsOfGap = (gap: StoredGap, hours: Calendar.Hours): Array<Calendar.Session> | string => {
  const fromMs = Number(gap.fromTs / 1_000_000n)
  try {
    const first = Calendar.sessionFrom(fromMs, hours)
    // An open-ended gap (its end never arrived) can only be placed in the session it starts in.
    if (gap.toTs === undefined) {
      return first.open <= fromMs ? [first] : `its end is unknown and it starts outside an ${hours.kind === "rth" ? "RTH" : "Globex"} session`
    }
    // to_ts is exclusive, in ns: round up to ms so a gap ending within a millisecond still reaches it.
    const endMs = Math.max(Number((gap.toTs + 999_999n) / 1_000_000n), fromMs + 1)
    const out: Array<Calendar.Session> = []
    for (let s = first; s.open < endMs; s = Calendar.sessionFrom(s.close, hours)) {
      if (out.length === MAX_SESSIONS_PER_GAP) return `it spans more than ${MAX_SESSIONS_PER_GAP} sessions`
      out.push(s)
    }
    return out.length > 0 ? out : `it lies outside any ${hours.kind === "rth" ? "RTH" : "Globex"} session`
  } catch {
    return "no trading session near its start"
  }
}

/** Which sessions (of `hours`) to re-run for these gaps, and which session completes each gap. */
export const planGaps = (gaps: ReadonlyArray<StoredGap>, hours: Calendar.Hours = Calendar.defaultHours): GapPlan => {
  const sessions = new Map<string, Calendar.Session>()
  const completes = new Map<string, Array<StoredGap>>()
  const unplaced: Array<UnplacedGap> = []
  for (const gap of gaps) {
    const found = sessionsOfGap(gap, hours)
    if (typeof found === "string") {
      unplaced.push({ gap, why: found })
      continue
    }
    for (const s of found) sessions.set(s.tradeDate, s)
    const last = found[found.length - 1]!.tradeDate
    completes.set(last, [...(completes.get(last) ?? []), gap])
  }
  return { sessions: [...sessions.values()].sort((a, b) => a.open - b.open), completes, unplaced }
}

const describeGap = (g: StoredGap) =>
  `${g.source} gap from ${iso(g.fromTs)} to ${g.toTs === undefined ? "(unknown)" : iso(g.toTs)}`

const noPendingGaps = Console.log("backfill --gaps: no pending gaps, nothing to fetch").pipe(
  Effect.as({ sessions: 0, recovered: 0, pending: 0, windows: 0, cost: 0 })
)

/** Re-runs the sessions of these pending gaps and marks each gap recovered once all its sessions are stored. */
const repairGaps = (pending: ReadonlyArray<StoredGap>, options: GapsOptions) =>
  Effect.gen(function*() {
    const gapsRepo = yield* GapsRepo
    // The sessions the live stream runs in (IFD_SESSION): a Globex stream's overnight gaps lie in Globex sessions.
    const plan = planGaps(pending, MarketHours.hoursOf(yield* MarketHours.config))
    for (const u of plan.unplaced) yield* Console.error(`backfill --gaps: ${describeGap(u.gap)} left pending: ${u.why}`)
    let recovered = 0
    const { cost, windows } = plan.sessions.length === 0
      ? { cost: 0, windows: 0 }
      : yield* backfillSessions(
        plan.sessions,
        options.symbols ?? ["NQ.OPT"],
        `gap backfill of ${plan.sessions.length} sessions`,
        (s) =>
          Effect.forEach(plan.completes.get(s.tradeDate) ?? [], (g) =>
            gapsRepo.markRecovered(g.source, g.fromTs, g.fromSeen).pipe(
              Effect.tap((marked) => Effect.sync(() => marked && recovered++))
            ), { discard: true })
      )
    yield* Console.log(
      `backfill --gaps: ${plan.sessions.length} sessions repaired (${windows} windows stored), ` +
        `${recovered} gaps recovered, ${plan.unplaced.length} left pending, cost $${cost.toFixed(2)}`
    )
    return { sessions: plan.sessions.length, recovered, pending: plan.unplaced.length, windows, cost }
  })

const pendingGaps = Effect.flatMap(GapsRepo, (r) => r.list("pending"))

/** `backfill --gaps`: repairs the sessions holding pending gaps; no pending gap means no request at all. */
export const runGaps = (options: GapsOptions = {}) =>
  Effect.flatMap(pendingGaps, (pending) => pending.length === 0 ? noPendingGaps : repairGaps(pending, options))

// ---------------------------------------------------------------------------------------------------------------
// The command

const usage = (detail: string) => Effect.fail(new SourceError({ reason: "Config", detail }))

/**
 * The command: the historical client (DATABENTO_API_KEY, IFD_HISTORICAL_URL) over the budget and the store.
 * `--days` and `--gaps` are alternatives; `--gaps` with nothing pending needs neither the key nor the API.
 */
export const command = (options: {
  readonly db: string | undefined
  readonly days: number | undefined
  readonly gaps: boolean
  readonly end: string | undefined
}) => {
  const store = options.db === undefined ? Store.layerConfig : Store.layer({ filename: options.db })
  const api = Historical.Default.pipe(Layer.provideMerge(Budget.Default))
  if (options.gaps && options.days !== undefined) return usage("backfill takes --days N or --gaps, not both")
  if (options.gaps) {
    if (options.end !== undefined) return usage("--end applies to --days only")
    // `runGaps` with the API layer built only once something is pending.
    return Effect.flatMap(pendingGaps, (pending) =>
      pending.length === 0 ? noPendingGaps : repairGaps(pending, {}).pipe(Effect.provide(api))).pipe(
        Effect.provide(store)
      )
  }
  if (options.days === undefined) return usage("backfill needs --days N (trading days of history) or --gaps")
  return run({ days: options.days, end: options.end }).pipe(Effect.provide(api.pipe(Layer.provideMerge(store))))
}
