/**
 * The data budget: a `Ref` meter of the live DBN bytes received, priced per GB, plus priced historical requests,
 * against a daily budget with a cutoff fraction. The stream ends after the batch that crosses the cutoff; the day
 * rolls over at the CME trade-date boundary; spending is kept in the SQLite ledger so a restart continues from it.
 */
import {
  Chunk,
  Clock,
  Config,
  ConfigError,
  Context,
  Effect,
  Either,
  Layer,
  Schema,
  Stream,
  SynchronizedRef
} from "effect"
import * as Calendar from "./Calendar.js"
import { type LedgerEntry, LedgerRepo, type Totals, zero } from "./LedgerRepo.js"
import { sleepUntil } from "./MarketHours.js"

export interface BudgetSettings {
  /** USD per GB (10^9 bytes) of live DBN received. */
  readonly pricePerGb: number
  /** USD per trade date. */
  readonly dailyBudget: number
  /** Fraction of `dailyBudget` at which streaming stops (0 < cutoff ≤ 1). */
  readonly cutoff: number
  /** New York minute of day at which a trade date ends (18:00 = CME's; 0 = midnight). */
  readonly rolloverMinute: number
}

export class BudgetConfig extends Context.Tag("ifd/gate/BudgetConfig")<BudgetConfig, BudgetSettings>() {}

export const BYTES_PER_GB = 1e9

/**
 * `pricePerGb` 5 USD is deliberately high: Databento prices each dataset and schema in $/GB of uncompressed DBN
 * (live ≈ 1.2× historical) and no GLBX.MDP3 MBO live rate was found in the sources read, so a conservative rate
 * stops early rather than late. Set IFD_PRICE_PER_GB from your portal's quote.
 */
export const defaults: BudgetSettings = {
  pricePerGb: 5,
  dailyBudget: 10,
  cutoff: 0.8,
  rolloverMinute: 18 * 60
}

const positive = (name: string, fallback: number, description: string) =>
  Config.number(name).pipe(
    Config.validate({ message: `${name} must be a number > 0`, validation: (n) => Number.isFinite(n) && n > 0 }),
    Config.withDefault(fallback),
    Config.withDescription(description)
  )

/** Reads IFD_PRICE_PER_GB, IFD_DAILY_BUDGET, IFD_BUDGET_CUTOFF and IFD_BUDGET_ROLLOVER. */
export const config: Config.Config<BudgetSettings> = Config.all({
  pricePerGb: positive("IFD_PRICE_PER_GB", defaults.pricePerGb, "USD per GB (10^9 bytes) of live DBN data received"),
  dailyBudget: positive("IFD_DAILY_BUDGET", defaults.dailyBudget, "USD budget per trade date"),
  cutoff: Config.number("IFD_BUDGET_CUTOFF").pipe(
    Config.validate({ message: "IFD_BUDGET_CUTOFF must be in (0, 1]", validation: (n) => n > 0 && n <= 1 }),
    Config.withDefault(defaults.cutoff),
    Config.withDescription("Fraction of the daily budget at which live streaming stops")
  ),
  rolloverMinute: Config.string("IFD_BUDGET_ROLLOVER").pipe(
    Config.mapOrFail((s) => {
      const m = Calendar.parseClock(s)
      return m === undefined
        ? Either.left(ConfigError.InvalidData(["IFD_BUDGET_ROLLOVER"], "IFD_BUDGET_ROLLOVER must be HH:MM, e.g. 18:00"))
        : Either.right(m)
    }),
    Config.withDefault(defaults.rolloverMinute),
    Config.withDescription(
      "New York time at which the budget day rolls over (18:00 = CME trade date, 00:00 = midnight)"
    )
  )
})

export const layerSettings = (overrides: Partial<BudgetSettings> = {}): Layer.Layer<BudgetConfig> =>
  Layer.succeed(BudgetConfig, { ...defaults, ...overrides })

export const layerSettingsConfig: Layer.Layer<BudgetConfig, ConfigError.ConfigError> = Layer.effect(
  BudgetConfig,
  config
)

/** A priced request that would take the day's spending past the cutoff. */
export class BudgetExceeded extends Schema.TaggedError<BudgetExceeded>()("BudgetExceeded", {
  tradeDate: Schema.String,
  /** USD the request would cost. */
  requestedUsd: Schema.Number,
  /** USD already spent on the trade date. */
  spentUsd: Schema.Number,
  /** USD at which spending stops: daily budget × cutoff. */
  limitUsd: Schema.Number,
  /** What was asked for (safe text). */
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.detail} would cost ${usd(this.requestedUsd)}, but ${usd(this.spentUsd)} of the ${
      usd(this.limitUsd)
    } limit for ${this.tradeDate} is already spent`
  }
}

export interface BudgetState {
  /** The trade date the spending counts against, `YYYY-MM-DD`. */
  readonly tradeDate: string
  /** `YYYY-MM` of the trade date. */
  readonly month: string
  /** Live DBN bytes received on the trade date. */
  readonly liveBytes: number
  readonly liveUsd: number
  readonly historicalUsd: number
  /** liveUsd + historicalUsd. */
  readonly spentUsd: number
  readonly budgetUsd: number
  /** budgetUsd × cutoff. */
  readonly limitUsd: number
  /** limitUsd − spentUsd, never below 0. */
  readonly remainingUsd: number
  /** Spending reached the limit: live streaming stops until the next trade date. */
  readonly exhausted: boolean
  /** Spent over the month's trade dates, this one included. */
  readonly monthUsd: number
  readonly monthLiveBytes: number
  /** Spent but not yet in the ledger (written within seconds, and when the service closes). */
  readonly unsavedUsd: number
  /** When the next trade date begins (epoch ms). */
  readonly resetsAt: number
  /** New York minute of the day before at which a trade date begins (0: midnight of the date itself). */
  readonly rolloverMinute: number
}

export interface BudgetReport extends BudgetState {
  /** USD per signal on the trade date and over the month; undefined without signals. */
  readonly perSignal: { readonly today: number | undefined; readonly month: number | undefined }
}

export const usd = (n: number): string => `$${n.toFixed(2)}`

/** One line for logs and the status view. */
export const formatReport = (r: BudgetReport): string => {
  const per = r.perSignal.today === undefined ? "" : `, ${usd(r.perSignal.today)}/signal`
  const perMonth = r.perSignal.month === undefined ? "" : `, ${usd(r.perSignal.month)}/signal`
  return `${r.tradeDate}: ${usd(r.spentUsd)} of ${usd(r.limitUsd)} (${(r.liveBytes / 1e6).toFixed(1)} MB live${per})` +
    `${r.exhausted ? " — cutoff reached" : ""}; ${r.month}: ${usd(r.monthUsd)}${perMonth}`
}

// Float noise in the running sums must not keep a meter exactly at its limit from counting as exhausted.
const EPSILON_USD = 1e-9
// Ledger writes are batched: at most one per FLUSH_MS or per FLUSH_FRACTION of the limit, so a crash loses little.
const FLUSH_MS = 5_000
const FLUSH_FRACTION = 0.01

interface Meter {
  readonly tradeDate: string
  readonly month: string
  /** The trade date's totals in the ledger when it was loaded. */
  readonly base: Totals
  /** The month's totals in the ledger when it was loaded (including `base`). */
  readonly monthBase: Totals
  /** Live bytes metered by this process on the trade date; `savedBytes` of them are in the ledger. */
  readonly liveBytes: number
  readonly savedBytes: number
  /** Historical USD charged by this process on the trade date. */
  readonly historicalUsd: number
  /** Entries not yet written, besides the live bytes above. */
  readonly pending: ReadonlyArray<LedgerEntry>
  readonly lastFlush: number
  readonly cutoffLogged: boolean
}

export class Budget extends Effect.Service<Budget>()("ifd/gate/Budget", {
  scoped: Effect.gen(function*() {
    const settings = yield* BudgetConfig
    const ledger = yield* LedgerRepo
    const limitUsd = settings.dailyBudget * settings.cutoff
    const flushUsd = limitUsd * FLUSH_FRACTION
    const priceOf = (bytes: number) => bytes * settings.pricePerGb / BYTES_PER_GB

    const load = (tradeDate: string) =>
      Effect.all([ledger.day(tradeDate), ledger.month(tradeDate.slice(0, 7))], { concurrency: 1 })

    const fresh = (tradeDate: string, base: Totals, monthBase: Totals, now: number): Meter => ({
      tradeDate,
      month: tradeDate.slice(0, 7),
      base,
      monthBase,
      liveBytes: 0,
      savedBytes: 0,
      historicalUsd: 0,
      pending: [],
      lastFlush: now,
      cutoffLogged: false
    })

    const view = (m: Meter, now: number): BudgetState => {
      const liveUsd = m.base.liveUsd + priceOf(m.liveBytes)
      const historicalUsd = m.base.historicalUsd + m.historicalUsd
      const spentUsd = liveUsd + historicalUsd
      const processUsd = priceOf(m.liveBytes) + m.historicalUsd
      let unsavedUsd = priceOf(m.liveBytes - m.savedBytes)
      for (const e of m.pending) unsavedUsd += e.usd
      return {
        tradeDate: m.tradeDate,
        month: m.month,
        liveBytes: m.base.liveBytes + m.liveBytes,
        liveUsd,
        historicalUsd,
        spentUsd,
        budgetUsd: settings.dailyBudget,
        limitUsd,
        remainingUsd: Math.max(0, limitUsd - spentUsd),
        exhausted: spentUsd >= limitUsd - EPSILON_USD,
        monthUsd: m.monthBase.usd + processUsd,
        monthLiveBytes: m.monthBase.liveBytes + m.liveBytes,
        unsavedUsd,
        resetsAt: Calendar.nextRollover(now, settings.rolloverMinute),
        rolloverMinute: settings.rolloverMinute
      }
    }

    /** Writes what is unsaved; on failure keeps it for the next attempt and logs (metering goes on in memory). */
    const flushMeter = (m: Meter, now: number): Effect.Effect<Meter> => {
      const unsavedBytes = m.liveBytes - m.savedBytes
      const entries: Array<LedgerEntry> = [...m.pending]
      if (unsavedBytes > 0) {
        entries.push({
          tradeDate: m.tradeDate,
          kind: "live",
          bytes: unsavedBytes,
          usd: priceOf(unsavedBytes),
          recordedAt: now
        })
      }
      if (entries.length === 0) return Effect.succeed({ ...m, lastFlush: now })
      return ledger.append(entries).pipe(
        Effect.as<Meter>({ ...m, savedBytes: m.liveBytes, pending: [], lastFlush: now }),
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning("Cost ledger write failed: spending kept in memory, retried shortly").pipe(
              Effect.annotateLogs({ error: e.message, unsavedEntries: entries.length })
            ),
            { ...m, lastFlush: now }
          )
        )
      )
    }

    const maybeFlush = (m: Meter, now: number): Effect.Effect<Meter> => {
      if (now - m.lastFlush >= FLUSH_MS) return flushMeter(m, now)
      let unsaved = priceOf(m.liveBytes - m.savedBytes)
      for (const e of m.pending) unsaved += e.usd
      return unsaved >= flushUsd ? flushMeter(m, now) : Effect.succeed(m)
    }

    /** The meter for the trade date of `now`, rolling over (and reloading the ledger) when it changed. */
    const current = (m: Meter, now: number): Effect.Effect<Meter> => {
      const tradeDate = Calendar.tradeDate(now, settings.rolloverMinute)
      if (tradeDate === m.tradeDate) return Effect.succeed(m)
      return Effect.gen(function*() {
        const before = view(m, now)
        const flushed = yield* flushMeter(m, now)
        const carried: ReadonlyArray<LedgerEntry> = flushed.liveBytes > flushed.savedBytes
          ? [...flushed.pending, {
            tradeDate: m.tradeDate,
            kind: "live",
            bytes: flushed.liveBytes - flushed.savedBytes,
            usd: priceOf(flushed.liveBytes - flushed.savedBytes),
            recordedAt: now
          }]
          : flushed.pending
        const month = tradeDate.slice(0, 7)
        const [base, monthBase] = yield* load(tradeDate).pipe(
          Effect.catchAll((e) =>
            Effect.as(
              Effect.logWarning("Cost ledger unreadable at day rollover: counting from zero").pipe(
                Effect.annotateLogs({ error: e.message })
              ),
              [
                zero,
                month === m.month ? { ...zero, usd: before.monthUsd, liveBytes: before.monthLiveBytes } : zero
              ] as const
            )
          )
        )
        yield* Effect.logInfo("Budget day rolled over").pipe(
          Effect.annotateLogs({
            previous: m.tradeDate,
            previousSpent: usd(before.spentUsd),
            tradeDate,
            limit: usd(limitUsd)
          })
        )
        return { ...fresh(tradeDate, base, monthBase, now), pending: carried }
      })
    }

    const logCutoff = (s: BudgetState) =>
      Effect.logWarning("Daily data budget cutoff reached: live streaming stops until the next trade date").pipe(
        Effect.annotateLogs({
          tradeDate: s.tradeDate,
          spent: usd(s.spentUsd),
          limit: usd(s.limitUsd),
          budget: usd(s.budgetUsd),
          resumesAt: new Date(s.resetsAt).toISOString()
        })
      )

    /** Applies `f` to the up-to-date meter atomically, then flushes if due and logs the first crossing. */
    const update = <B, E>(f: (m: Meter, now: number) => Effect.Effect<readonly [B, Meter], E>) =>
      SynchronizedRef.modifyEffect(ref, (m0) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const [b, m1] = yield* f(yield* current(m0, now), now)
          let m = yield* maybeFlush(m1, now)
          const s = view(m, now)
          if (s.exhausted && !m.cutoffLogged) {
            yield* logCutoff(s)
            m = { ...m, cutoffLogged: true }
          }
          return [b, m] as const
        }))

    const startedAt = yield* Clock.currentTimeMillis
    const startDate = Calendar.tradeDate(startedAt, settings.rolloverMinute)
    const [base0, month0] = yield* load(startDate)
    const ref = yield* SynchronizedRef.make(fresh(startDate, base0, month0, startedAt))
    const s0 = view(yield* SynchronizedRef.get(ref), startedAt)
    yield* Effect.logInfo("Data budget").pipe(
      Effect.annotateLogs({
        tradeDate: s0.tradeDate,
        spent: usd(s0.spentUsd),
        limit: usd(limitUsd),
        budget: usd(settings.dailyBudget),
        pricePerGb: usd(settings.pricePerGb),
        month: usd(s0.monthUsd)
      })
    )

    /** Writes everything unsaved to the ledger now. */
    const flush = SynchronizedRef.updateEffect(
      ref,
      (m) => Effect.flatMap(Clock.currentTimeMillis, (now) => flushMeter(m, now))
    )
    yield* Effect.addFinalizer(() => flush)

    /** Counts one received batch of live DBN bytes; returns the state after it. */
    const record = Effect.fn("Budget.record")(function*(bytes: number) {
      const n = Number.isFinite(bytes) && bytes > 0 ? Math.floor(bytes) : 0
      return yield* update((m, now) => {
        const next = n === 0 ? m : { ...m, liveBytes: m.liveBytes + n }
        return Effect.succeed([view(next, now), next] as const)
      })
    })

    /** The trade date's spending (rolling over first when the date changed). */
    const state: Effect.Effect<BudgetState> = update((m, now) => Effect.succeed([view(m, now), m] as const))

    const exhausted: Effect.Effect<boolean> = Effect.map(state, (s) => s.exhausted)

    /** Fails with `BudgetExceeded` when spending `cost` USD now would pass the limit (free requests always pass). */
    const authorize = Effect.fn("Budget.authorize")(function*(cost: number, detail: string) {
      const s = yield* state
      if (cost > 0 && s.spentUsd + cost > limitUsd + EPSILON_USD) {
        return yield* new BudgetExceeded({
          tradeDate: s.tradeDate,
          requestedUsd: cost,
          spentUsd: s.spentUsd,
          limitUsd,
          detail
        })
      }
      return s
    })

    const addHistorical = (m: Meter, now: number, cost: number, detail: string): Meter => ({
      ...m,
      historicalUsd: m.historicalUsd + cost,
      pending: [
        ...m.pending,
        { tradeDate: m.tradeDate, kind: "historical", bytes: 0, usd: cost, detail, recordedAt: now }
      ]
    })

    /** Records a historical purchase of `cost` USD unconditionally and writes it to the ledger at once. */
    const charge = Effect.fn("Budget.charge")(function*(cost: number, detail: string) {
      const c = Number.isFinite(cost) && cost > 0 ? cost : 0
      return yield* update((m, now) =>
        Effect.map(flushMeter(addHistorical(m, now, c, detail), now), (next) => [view(next, now), next] as const)
      )
    })

    /** `authorize` and `charge` as one atomic step. */
    const spend = Effect.fn("Budget.spend")(function*(cost: number, detail: string) {
      const c = Number.isFinite(cost) && cost > 0 ? cost : 0
      return yield* update((m, now) => {
        const s = view(m, now)
        if (c > 0 && s.spentUsd + c > limitUsd + EPSILON_USD) {
          return Effect.fail(
            new BudgetExceeded({ tradeDate: s.tradeDate, requestedUsd: c, spentUsd: s.spentUsd, limitUsd, detail })
          )
        }
        return Effect.map(flushMeter(addHistorical(m, now, c, detail), now), (next) => [view(next, now), next] as const)
      })
    })

    /**
     * Meters one upstream chunk: all its bytes count (they were received), but only the elements up to the one
     * that reaches the limit go on, and `stop` ends the stream after them.
     */
    const meterChunk = <A>(chunk: Chunk.Chunk<A>, size: (a: A) => number) =>
      update((m, now) => {
        const before = view(m, now)
        const items = Chunk.toReadonlyArray(chunk)
        let keep = before.exhausted ? 0 : items.length
        let stop = before.exhausted
        let total = 0
        for (let i = 0; i < items.length; i++) {
          const n = size(items[i]!)
          if (n > 0) total += n
          if (!stop && before.spentUsd + priceOf(total) >= limitUsd - EPSILON_USD) {
            keep = i + 1
            stop = true
          }
        }
        const next = { ...m, liveBytes: m.liveBytes + Math.floor(total) }
        const out = keep === items.length ? chunk : Chunk.take(chunk, keep)
        return Effect.succeed([{ out, stop }, next] as const)
      })

    /**
     * Meters a stream by `size` of each element (its DBN bytes) and ends it after the element that reaches the
     * cutoff, so the day never goes more than one batch past it. Already exhausted: ends at once.
     */
    const guardBy = <A>(size: (a: A) => number) => <E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
      Stream.unwrap(Effect.map(state, (s) =>
        s.exhausted
          ? Stream.execute(logCutoff(s))
          : self.pipe(
            Stream.chunks,
            Stream.mapEffect((chunk) => meterChunk(chunk, size)),
            Stream.takeUntil((r) => r.stop),
            Stream.map((r) => r.out),
            Stream.flattenChunks
          )))

    /** `guardBy` for the raw DBN bytes from the gateway. */
    const guard: <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E, R> = guardBy(
      (b: Uint8Array) => b.byteLength
    )

    /** For a stream whose bytes are `record`ed elsewhere: ends it after the element during which the cutoff was hit. */
    const haltWhenExhausted = <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
      Stream.unwrap(Effect.map(state, (s) =>
        s.exhausted
          ? Stream.execute(logCutoff(s))
          : Stream.takeUntilEffect(self, () => exhausted)))

    /** Returns at once while under the limit; otherwise sleeps (on `Clock`) until the next trade date. */
    const untilAvailable: Effect.Effect<void> = Effect.gen(function*() {
      for (;;) {
        const s = yield* state
        if (!s.exhausted) return
        yield* Effect.logInfo("Data budget exhausted: waiting for the next trade date").pipe(
          Effect.annotateLogs({ tradeDate: s.tradeDate, resumesAt: new Date(s.resetsAt).toISOString() })
        )
        yield* sleepUntil(s.resetsAt)
      }
    })

    /**
     * Runs `run` when budget is available; when it ends with the budget exhausted (stopped by `guard`), waits for
     * the next trade date and runs it again. Returns when it ends for any other reason.
     */
    const gate = <A, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.gen(function*() {
        for (;;) {
          yield* untilAvailable
          const a = yield* run
          if (!(yield* exhausted)) return a
        }
      }).pipe(Effect.withSpan("Budget.gate"))

    /** The state plus cost per signal, given the signals of the trade date and of the month. */
    const report = Effect.fn("Budget.report")(function*(
      signals: { readonly today?: number; readonly month?: number } = {}
    ) {
      const s = yield* state
      const per = (spent: number, n: number | undefined) => n !== undefined && n > 0 ? spent / n : undefined
      return { ...s, perSignal: { today: per(s.spentUsd, signals.today), month: per(s.monthUsd, signals.month) } }
    })

    return {
      settings,
      record,
      state,
      exhausted,
      authorize,
      charge,
      spend,
      guard,
      guardBy,
      haltWhenExhausted,
      untilAvailable,
      gate,
      report,
      flush
    } as const
  }),
  dependencies: [layerSettingsConfig, LedgerRepo.Default]
}) {}

/** The service (and its LedgerRepo) with explicit settings; needs `SqlClient` with the ledger table. */
export const layer = (overrides: Partial<BudgetSettings> = {}) =>
  Budget.DefaultWithoutDependencies.pipe(
    Layer.provide(layerSettings(overrides)),
    Layer.provideMerge(LedgerRepo.Default)
  )
