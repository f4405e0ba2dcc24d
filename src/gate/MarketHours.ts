/**
 * Whether the stream may run now by the clock: RTH (09:30–16:00 ET) or Globex (Sun–Fri 18:00–17:00 ET) on the CME
 * calendar of `Calendar.ts`, and the scheduler that waits for the open, runs until the close (interrupting) and
 * starts again next session. IFD_IGNORE_MARKET_HOURS switches the gate off. Wall time comes from `Clock` only.
 */
import { Clock, Config, ConfigError, Context, DateTime, Duration, Effect, Either, Layer, Option, Stream } from "effect"
import * as Calendar from "./Calendar.js"

export interface MarketHoursSettings {
  readonly session: Calendar.SessionKind
  /** Run at any hour (`--ignore-market-hours`). */
  readonly ignore: boolean
  /** RTH open and close, minutes after New York midnight (Globex hours are CME's and fixed). */
  readonly rthOpen: number
  readonly rthClose: number
}

export class MarketHoursConfig extends Context.Tag("ifd/gate/MarketHoursConfig")<
  MarketHoursConfig,
  MarketHoursSettings
>() {}

export const defaults: MarketHoursSettings = {
  session: "rth",
  ignore: false,
  rthOpen: Calendar.defaultHours.rthOpen,
  rthClose: Calendar.defaultHours.rthClose
}

const clock = (name: string, fallback: number, description: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((s) => {
      const m = Calendar.parseClock(s)
      return m === undefined
        ? Either.left(ConfigError.InvalidData([name], `${name} must be HH:MM in New York time, e.g. 09:30`))
        : Either.right(m)
    }),
    Config.withDefault(fallback),
    Config.withDescription(description)
  )

/** Reads IFD_SESSION, IFD_IGNORE_MARKET_HOURS, IFD_RTH_OPEN and IFD_RTH_CLOSE. */
export const config: Config.Config<MarketHoursSettings> = Config.all({
  session: Config.literal("rth", "globex")("IFD_SESSION").pipe(
    Config.withDefault(defaults.session),
    Config.withDescription(
      "Hours to stream: rth (09:30–16:00 ET) or globex (Sun–Fri 18:00–17:00 ET, daily break)"
    )
  ),
  ignore: Config.boolean("IFD_IGNORE_MARKET_HOURS").pipe(
    Config.withDefault(defaults.ignore),
    Config.withDescription("Stream at any hour, ignoring sessions and holidays")
  ),
  rthOpen: clock("IFD_RTH_OPEN", defaults.rthOpen, "RTH open, HH:MM America/New_York"),
  rthClose: clock("IFD_RTH_CLOSE", defaults.rthClose, "RTH close, HH:MM America/New_York")
}).pipe(
  Config.validate({
    message: "IFD_RTH_OPEN must be before IFD_RTH_CLOSE",
    validation: (s) => s.rthOpen < s.rthClose
  })
)

/** The calendar hours the settings describe: the session kind and the RTH bounds (Globex hours are CME's). */
export const hoursOf = (settings: MarketHoursSettings): Calendar.Hours => ({
  ...Calendar.defaultHours,
  kind: settings.session,
  rthOpen: settings.rthOpen,
  rthClose: settings.rthClose
})

export const layerSettings = (overrides: Partial<MarketHoursSettings> = {}): Layer.Layer<MarketHoursConfig> =>
  Layer.succeed(MarketHoursConfig, { ...defaults, ...overrides })

export const layerSettingsConfig: Layer.Layer<MarketHoursConfig, ConfigError.ConfigError> = Layer.effect(
  MarketHoursConfig,
  config
)

/** What the status view shows. */
export interface MarketStatus {
  readonly open: boolean
  readonly ignoring: boolean
  readonly session: Calendar.SessionKind
  /** The session in progress, or the next one; none when ignoring market hours. */
  readonly current: Option.Option<Calendar.Session>
  readonly nextOpen: Option.Option<DateTime.Utc>
  readonly nextClose: Option.Option<DateTime.Utc>
}

// A single long timer would not notice a suspended laptop or a clock step; waking hourly to re-read the clock does.
const MAX_SLEEP_MS = 60 * 60 * 1000

/** Sleeps on `Clock` until `target` (epoch ms), re-reading the clock at least hourly. */
export const sleepUntil = (target: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      if (now >= target) return
      yield* Effect.sleep(Duration.millis(Math.min(target - now, MAX_SLEEP_MS)))
    }
  })

const iso = (ms: number): string => new Date(ms).toISOString()

export class MarketHours extends Effect.Service<MarketHours>()("ifd/gate/MarketHours", {
  effect: Effect.gen(function*() {
    const settings = yield* MarketHoursConfig
    const hours = hoursOf(settings)
    const ms = (at: DateTime.DateTime) => DateTime.toEpochMillis(at)

    const isOpen = (at: DateTime.DateTime): boolean => settings.ignore || Calendar.isOpen(ms(at), hours)

    /** The session containing `at`, or the next one; none when ignoring market hours. */
    const session = (at: DateTime.DateTime): Option.Option<Calendar.Session> =>
      settings.ignore ? Option.none() : Option.some(Calendar.sessionFrom(ms(at), hours))

    /** The next open strictly after `at`; none when ignoring market hours (it never closes). */
    const nextOpen = (at: DateTime.DateTime): Option.Option<DateTime.Utc> =>
      settings.ignore ? Option.none() : Option.some(DateTime.unsafeMake(Calendar.nextOpen(ms(at), hours)))

    /** The close of the session in progress, or of the next one; none when ignoring market hours. */
    const nextClose = (at: DateTime.DateTime): Option.Option<DateTime.Utc> =>
      settings.ignore ? Option.none() : Option.some(DateTime.unsafeMake(Calendar.nextClose(ms(at), hours)))

    const status: Effect.Effect<MarketStatus> = Effect.map(DateTime.now, (now) => ({
      open: isOpen(now),
      ignoring: settings.ignore,
      session: settings.session,
      current: session(now),
      nextOpen: nextOpen(now),
      nextClose: nextClose(now)
    }))

    /** Sleeps until a session is in progress and returns it. */
    const awaitOpen: Effect.Effect<Calendar.Session> = Effect.gen(function*() {
      for (;;) {
        const now = yield* Clock.currentTimeMillis
        const s = Calendar.sessionFrom(now, hours)
        if (s.open <= now) return s
        yield* Effect.logInfo("Market closed: waiting for the open").pipe(
          Effect.annotateLogs({
            opensAt: iso(s.open),
            tradeDate: s.tradeDate,
            in: Duration.format(Duration.millis(s.open - now))
          })
        )
        yield* sleepUntil(s.open)
      }
    })

    const logOpen = (s: Calendar.Session) =>
      Effect.logInfo("Market open: running until the close").pipe(
        Effect.annotateLogs({ tradeDate: s.tradeDate, closesAt: iso(s.close), ...(s.note ? { note: s.note } : {}) })
      )

    /**
     * Runs `run` during every session: waits for the open, interrupts it at the close (its finalizers run), and
     * starts it again at the next open. A run that ends by itself before the close (the budget cutoff) is started
     * again at the next session, not at once. Fails when `run` fails. With market hours ignored: just `run`.
     */
    const gate = <A, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<void, E, R> =>
      settings.ignore ? Effect.asVoid(run) : Effect.gen(function*() {
        for (;;) {
          const s = yield* awaitOpen
          yield* logOpen(s)
          const endedEarly = yield* Effect.raceFirst(
            Effect.as(run, true),
            Effect.as(sleepUntil(s.close), false)
          )
          if (endedEarly) {
            yield* Effect.logInfo("Run ended before the close: resuming next session").pipe(
              Effect.annotateLogs({ tradeDate: s.tradeDate, closesAt: iso(s.close) })
            )
            yield* sleepUntil(s.close)
          } else {
            yield* Effect.logInfo("Market closed: run stopped").pipe(Effect.annotateLogs({ tradeDate: s.tradeDate }))
          }
        }
      }).pipe(Effect.withSpan("MarketHours.gate"))

    /**
     * `stream` once per session, ended at the close (its upstream interrupted, so the stream ends successfully and
     * downstream flushes). It is evaluated anew each session, so a stream built with `Stream.unwrap` re-reads its
     * resume cursor. With market hours ignored: `stream` unchanged.
     */
    const gateStream = <A, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
      settings.ignore ? stream : Stream.forever(Stream.unwrap(Effect.map(
        Effect.tap(awaitOpen, logOpen),
        (s) =>
          stream.pipe(
            Stream.interruptWhen(sleepUntil(s.close)),
            Stream.concat(Stream.execute(sleepUntil(s.close)))
          )
      )))

    return { settings, hours, isOpen, session, nextOpen, nextClose, status, awaitOpen, gate, gateStream } as const
  }),
  dependencies: [layerSettingsConfig]
}) {}

/** The service with explicit settings (tests, CLI flags). */
export const layer = (overrides: Partial<MarketHoursSettings> = {}): Layer.Layer<MarketHours> =>
  MarketHours.DefaultWithoutDependencies.pipe(Layer.provide(layerSettings(overrides)))
