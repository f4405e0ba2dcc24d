/**
 * The one place that knows the stream's state for the status interface: pipeline counters (updated once per chunk),
 * pause/stop control, recent reported signals, plus LiveStatus, Budget and MarketHours when they are present.
 * Snapshots are JSON-safe (bigints as decimal strings). Issue 6 (control interface).
 */
import { Chunk, Clock, Deferred, Effect, Option, PubSub, Ref, Stream, SubscriptionRef } from "effect"
import * as DateTime from "effect/DateTime"
import type { DecodedChunk } from "../dbn/Batch.js"
import type { EngineStats } from "../flow/Engine.js"
import type { PressureWindow } from "../flow/PressureWindow.js"
import type { WindowSignal } from "../flow/Signals.js"
import { Budget, type BudgetState } from "../gate/Budget.js"
import { MarketHours, type MarketStatus } from "../gate/MarketHours.js"
import { LiveStatus, type Snapshot as LiveSnapshot } from "../live/LiveStatus.js"
import * as Cursor from "../source/Cursor.js"

/** Pipeline counters since the process started. */
export interface Counters {
  /** Chunks pulled from the source. */
  readonly chunks: number
  /** Records pulled from the source (MBO + others). */
  readonly records: number
  /** T records classified, total and by the rule that decided the side (fed by `recordStats`). */
  readonly trades: number
  readonly tradesByRule: { readonly none: number; readonly aggressor: number; readonly quote: number; readonly tick: number }
  /** Closed windows stored (fed by `recordStats`). */
  readonly windowsStored: number
  /** Reported signals (fed by `onSignals`). */
  readonly signalsReported: number
  /** ts_event (ns) of the last record pulled. */
  readonly lastTsEvent: bigint | undefined
  /** Records/s over the last sampling interval (about a second). */
  readonly recordsPerSecond: number
  /** Windows open in the engine, when the pipeline reports it. */
  readonly openWindows: number | undefined
  /** Wall clock (ms) of the last chunk. */
  readonly updatedAt: number
  readonly sampleAt: number
  readonly sampleRecords: number
}

const initialCounters = (now: number): Counters => ({
  chunks: 0,
  records: 0,
  trades: 0,
  tradesByRule: { none: 0, aggressor: 0, quote: 0, tick: 0 },
  windowsStored: 0,
  signalsReported: 0,
  lastTsEvent: undefined,
  recordsPerSecond: 0,
  openWindows: undefined,
  updatedAt: 0,
  sampleAt: now,
  sampleRecords: 0
})

/** JSON-safe form of a value: bigint → decimal string, Option → value or null, DateTime → ISO, undefined → null. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

export const toJson = (u: unknown): Json => {
  if (u === undefined || u === null) return null
  switch (typeof u) {
    case "bigint":
      return u.toString()
    case "number":
      return Number.isFinite(u) ? u : null
    case "string":
    case "boolean":
      return u
    case "object": {
      if (Array.isArray(u)) return u.map(toJson)
      if (Option.isOption(u)) return Option.isSome(u) ? toJson(u.value) : null
      if (DateTime.isDateTime(u)) return DateTime.formatIso(u)
      if (u instanceof Date) return u.toISOString()
      const out: Record<string, Json> = {}
      for (const [k, v] of Object.entries(u)) {
        if (typeof v !== "function") out[k] = toJson(v)
      }
      return out
    }
    default:
      return null
  }
}

export interface StatusSnapshot {
  /** Wall clock of the snapshot, ISO 8601. */
  readonly at: string
  readonly source: "live" | "replay"
  readonly startedAt: string
  readonly uptimeSeconds: number
  readonly paused: boolean
  /** A stop was requested (the pipeline is finishing). */
  readonly stopping: boolean
  /** The source ended (a replay ran to its end); the interface stays up until stopped. */
  readonly finished: boolean
  readonly pipeline: {
    readonly chunks: number
    readonly records: number
    readonly trades: number
    readonly tradesByRule: { readonly none: number; readonly aggressor: number; readonly quote: number; readonly tick: number }
    readonly windowsStored: number
    readonly signalsReported: number
    /** ns since epoch, decimal string. */
    readonly lastTsEvent: string | null
    /** `lastTsEvent` as ISO 8601 (ms precision). */
    readonly lastEventTime: string | null
    readonly recordsPerSecond: number
    readonly openWindows: number | null
  }
  /** The live client (null in replay); bigints as strings. */
  readonly live: { readonly connected: boolean; readonly [k: string]: Json } | null
  readonly budget: { readonly [k: string]: Json } | null
  readonly market: { readonly open: boolean; readonly [k: string]: Json } | null
  /** The StreamManager's state (phase, sessions, stored gaps); null without one (replay). */
  readonly manager: { readonly phase: string; readonly [k: string]: Json } | null
}

export interface SnapshotParts {
  readonly source: "live" | "replay"
  readonly now: number
  readonly startedAt: number
  readonly counters: Counters
  readonly paused: boolean
  readonly stopping: boolean
  readonly finished?: boolean | undefined
  readonly live: LiveSnapshot | undefined
  readonly budget: BudgetState | undefined
  readonly market: MarketStatus | undefined
  readonly manager?: { readonly phase: string } | undefined
}

const STALE_MS = 2000

/** States in which the gateway is delivering (or about to deliver) data. */
export const isConnected = (s: LiveSnapshot): boolean => s.state === "Streaming" || s.state === "Subscribed"

/** The pure snapshot of the parts. */
export const snapshotOf = (p: SnapshotParts): StatusSnapshot => {
  const c = p.counters
  // When chunks stop arriving the last interval's rate would stay forever; measure up to now instead.
  const rate = p.now - c.sampleAt > STALE_MS
    ? (c.records - c.sampleRecords) / ((p.now - c.sampleAt) / 1000)
    : c.recordsPerSecond
  return {
    at: new Date(p.now).toISOString(),
    source: p.source,
    startedAt: new Date(p.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, (p.now - p.startedAt) / 1000),
    paused: p.paused,
    stopping: p.stopping,
    finished: p.finished === true,
    pipeline: {
      chunks: c.chunks,
      records: c.records,
      trades: c.trades,
      tradesByRule: { ...c.tradesByRule },
      windowsStored: c.windowsStored,
      signalsReported: c.signalsReported,
      lastTsEvent: c.lastTsEvent === undefined ? null : c.lastTsEvent.toString(),
      lastEventTime: c.lastTsEvent === undefined ? null : new Date(Number(c.lastTsEvent / 1_000_000n)).toISOString(),
      recordsPerSecond: Number.isFinite(rate) ? rate : 0,
      openWindows: c.openWindows ?? null
    },
    live: p.live === undefined
      ? null
      : { ...(toJson(p.live) as { readonly [k: string]: Json }), connected: isConnected(p.live) },
    budget: p.budget === undefined ? null : (toJson(p.budget) as { readonly [k: string]: Json }),
    market: p.market === undefined ? null : { ...(toJson(p.market) as { readonly [k: string]: Json }), open: p.market.open },
    manager: p.manager === undefined
      ? null
      : { ...(toJson(p.manager) as { readonly [k: string]: Json }), phase: p.manager.phase }
  }
}

/** Reported signals kept for `GET /signals`. */
export const RECENT_SIGNALS = 100

export class StreamStatus extends Effect.Service<StreamStatus>()("ifd/app/StreamStatus", {
  scoped: Effect.gen(function*() {
    const startedAt = yield* Clock.currentTimeMillis
    const counters = yield* Ref.make(initialCounters(startedAt))
    const paused = yield* SubscriptionRef.make(false)
    const stop = yield* Deferred.make<void>()
    const signals = yield* PubSub.sliding<WindowSignal>(1024)
    const recent = yield* Ref.make(Chunk.empty<WindowSignal>())
    // LiveSource builds its LiveStatus per session (inside the market-hours gate), so it can also be attached later.
    const live = yield* Ref.make(yield* Effect.serviceOption(LiveStatus))
    const source = yield* Ref.make<"live" | "replay" | undefined>(undefined)
    const finished = yield* Ref.make(false)
    const manager = yield* Ref.make<Option.Option<Effect.Effect<{ readonly phase: string }>>>(Option.none())
    const budget = yield* Effect.serviceOption(Budget)
    const market = yield* Effect.serviceOption(MarketHours)
    // Batches of closed windows as the pipeline stores them (the dashboard's live heatmap).
    const windows = yield* PubSub.sliding<ReadonlyArray<PressureWindow>>(256)
    yield* Effect.addFinalizer(() => Effect.zipRight(PubSub.shutdown(signals), PubSub.shutdown(windows)))

    /** Counts a chunk pulled from the source: records, last ts_event, rate. */
    const recordChunk = Effect.fnUntraced(function*(chunk: DecodedChunk) {
      const now = yield* Clock.currentTimeMillis
      const n = chunk.mbo.length + chunk.others.length
      const last = n === 0 ? undefined : Cursor.advance(undefined, chunk)?.tsEvent
      yield* Ref.update(counters, (c) => {
        const records = c.records + n
        const sampled = now - c.sampleAt >= 1000
        return {
          ...c,
          chunks: c.chunks + 1,
          records,
          lastTsEvent: last ?? c.lastTsEvent,
          updatedAt: now,
          ...(sampled
            ? { recordsPerSecond: (records - c.sampleRecords) / ((now - c.sampleAt) / 1000), sampleAt: now, sampleRecords: records }
            : {})
        }
      })
    })

    // Engine totals restart with each Pipeline.run (a live session per market-hours opening): totals of the runs
    // before the current one are carried, so the counters stay monotonic for Prometheus.
    type RunTotals = Pick<Counters, "trades" | "tradesByRule" | "windowsStored">
    const zeroRun: RunTotals = { trades: 0, tradesByRule: { none: 0, aggressor: 0, quote: 0, tick: 0 }, windowsStored: 0 }
    const run = yield* Ref.make({ carried: zeroRun, current: zeroRun })
    const add = (a: RunTotals, b: RunTotals): RunTotals => ({
      trades: a.trades + b.trades,
      tradesByRule: {
        none: a.tradesByRule.none + b.tradesByRule.none,
        aggressor: a.tradesByRule.aggressor + b.tradesByRule.aggressor,
        quote: a.tradesByRule.quote + b.tradesByRule.quote,
        tick: a.tradesByRule.tick + b.tradesByRule.tick
      },
      windowsStored: a.windowsStored + b.windowsStored
    })

    /** Marks the start of a new Pipeline.run: the engine's totals start again from zero. */
    const beginRun = Ref.update(run, (r) => ({ carried: add(r.carried, r.current), current: zeroRun }))

    /** The engine's totals for the current run after a chunk (trades by rule; windows stored and open when known). */
    const recordStats = Effect.fnUntraced(function*(
      stats: Pick<EngineStats, "trades" | "tradesByRule">,
      extra: { readonly windowsStored?: number; readonly openWindows?: number } = {}
    ) {
      const r = yield* Ref.updateAndGet(run, (r) => ({
        carried: r.carried,
        current: {
          trades: stats.trades,
          tradesByRule: { ...stats.tradesByRule },
          windowsStored: extra.windowsStored ?? r.current.windowsStored
        }
      }))
      const total = add(r.carried, r.current)
      yield* Ref.update(counters, (c) => ({ ...c, ...total, openWindows: extra.openWindows ?? c.openWindows }))
    })

    /** Counts and publishes reported signals; pass as `Pipeline.run({ onSignals })`. */
    const onSignals = Effect.fnUntraced(function*(batch: ReadonlyArray<WindowSignal>) {
      const reported = batch.filter((s) => s.reported)
      if (reported.length === 0) return
      yield* Ref.update(counters, (c) => ({ ...c, signalsReported: c.signalsReported + reported.length }))
      yield* Ref.update(recent, (r) => {
        const all = Chunk.appendAll(r, Chunk.unsafeFromArray(reported))
        return Chunk.size(all) > RECENT_SIGNALS ? Chunk.takeRight(all, RECENT_SIGNALS) : all
      })
      yield* PubSub.publishAll(signals, reported)
    })

    /** Publishes a batch of stored closed windows; pass as `Pipeline.run({ onWindows })`. */
    const onWindows = (closed: ReadonlyArray<PressureWindow>): Effect.Effect<void> =>
      closed.length === 0 ? Effect.void : Effect.asVoid(PubSub.publish(windows, closed))

    /** Returns at once when running; otherwise waits until resumed or stopped. */
    const waitWhilePaused: Effect.Effect<void> = Effect.flatMap(SubscriptionRef.get(paused), (p) =>
      !p ? Effect.void : Effect.raceFirst(
        paused.changes.pipe(Stream.filter((q) => !q), Stream.take(1), Stream.runDrain),
        Deferred.await(stop)
      ))

    /**
     * Wraps the source's chunks for `Pipeline.run({ around })`: waits while paused (the pipeline stops pulling, so the
     * source's own backpressure applies) and counts each chunk.
     */
    const around = <E, R>(chunks: Stream.Stream<DecodedChunk, E, R>): Stream.Stream<DecodedChunk, E, R> =>
      chunks.pipe(Stream.tap((chunk) => Effect.zipRight(waitWhilePaused, recordChunk(chunk))))

    const setPaused = (value: boolean) =>
      Effect.zipRight(
        SubscriptionRef.set(paused, value),
        Effect.logInfo(value ? "Stream paused from the control interface" : "Stream resumed from the control interface")
      )

    const requestStop = Effect.zipRight(
      Effect.logInfo("Stop requested from the control interface"),
      Deferred.succeed(stop, undefined)
    )

    /** Reads the session's LiveStatus from now on (call inside the effect that has LiveSource provided). */
    const attachLive: Effect.Effect<void, never, LiveStatus> = Effect.flatMap(LiveStatus, (s) =>
      Effect.zipRight(Ref.set(live, Option.some(s)), Ref.set(source, "live")))

    const snapshot: Effect.Effect<StatusSnapshot> = Effect.gen(function*() {
      const liveNow = yield* Ref.get(live)
      const sourceNow = yield* Ref.get(source)
      return snapshotOf({
        source: sourceNow ?? (Option.isSome(liveNow) ? "live" : "replay"),
        now: yield* Clock.currentTimeMillis,
        startedAt,
        counters: yield* Ref.get(counters),
        paused: yield* SubscriptionRef.get(paused),
        stopping: yield* Deferred.isDone(stop),
        finished: yield* Ref.get(finished),
        live: Option.isSome(liveNow) ? yield* liveNow.value.get : undefined,
        budget: Option.isSome(budget) ? yield* budget.value.state : undefined,
        market: Option.isSome(market) ? yield* market.value.status : undefined,
        manager: yield* Option.match(yield* Ref.get(manager), {
          onNone: () => Effect.succeed(undefined),
          onSome: (view) => view
        })
      })
    })

    return {
      /** The counters; read-only for the interface. */
      counters: Ref.get(counters),
      paused,
      /** Completed by `POST /control/stop`; race the pipeline with `Deferred.await(stop)`. */
      stop,
      /** Every reported signal as it is published (subscribe before it happens). */
      signals,
      /** Every batch of closed windows as it is stored (subscribe before it happens). */
      windows,
      /** The last `RECENT_SIGNALS` reported signals, oldest first. */
      recent: Effect.map(Ref.get(recent), Chunk.toReadonlyArray),
      /** Says which source feeds the stream before any LiveStatus is attached (e.g. live, waiting for the open). */
      setSource: (value: "live" | "replay") => Ref.set(source, value),
      attachLive,
      /** Says the source ended: a replay ran to its end. */
      markFinished: Ref.set(finished, true),
      /** Shows the StreamManager's state in the snapshot. */
      attachManager: (view: Effect.Effect<{ readonly phase: string }>) => Ref.set(manager, Option.some(view)),
      recordChunk,
      beginRun,
      recordStats,
      onSignals,
      onWindows,
      waitWhilePaused,
      around,
      pause: setPaused(true),
      resume: setPaused(false),
      requestStop,
      snapshot
    } as const
  })
}) {}

const fmt = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 2 })

/** A few human lines for the `status` command (the JSON has everything). */
export const formatStatus = (s: StatusSnapshot): string => {
  const p = s.pipeline
  const state = s.stopping ? "stopping" : s.finished ? "finished" : s.paused ? "paused" : "running"
  const lines = [
    `source         ${s.source} (${state}, up ${fmt(s.uptimeSeconds)} s)`,
    `records        ${fmt(p.records)} (${fmt(p.recordsPerSecond)} /s), last event ${p.lastEventTime ?? "none"}`,
    `trades         ${fmt(p.trades)}: aggressor ${fmt(p.tradesByRule.aggressor)}, quote ${fmt(p.tradesByRule.quote)}, ` +
    `tick ${fmt(p.tradesByRule.tick)}, none ${fmt(p.tradesByRule.none)}`,
    `windows        ${fmt(p.windowsStored)} stored${p.openWindows === null ? "" : `, ${fmt(p.openWindows)} open`}`,
    `signals        ${fmt(p.signalsReported)} reported`
  ]
  if (s.live !== null) {
    const lag = typeof s.live["lagMs"] === "number" ? `, lag ${fmt(s.live["lagMs"] / 1000)} s` : ""
    lines.push(`live           ${String(s.live["state"])}${lag}, ${String(s.live["reconnects"])} reconnects`)
  }
  if (s.budget !== null) {
    const n = (k: string) => (typeof s.budget![k] === "number" ? `$${(s.budget![k] as number).toFixed(2)}` : "?")
    lines.push(`budget         ${n("spentUsd")} spent, ${n("remainingUsd")} left of ${n("limitUsd")}`)
  }
  if (s.manager !== null) {
    const g = s.manager["gaps"] as { readonly [k: string]: Json } | null
    const gaps = g === null ? "" : `; gaps: ${String(g["recovered"])} recovered, ${String(g["pending"])} pending, ${String(g["open"])} open`
    lines.push(`stream         ${s.manager.phase}${gaps}`)
  }
  if (s.market !== null) lines.push(`market         ${s.market.open ? "open" : `closed, opens ${String(s.market["nextOpen"])}`}`)
  return lines.join("\n")
}
