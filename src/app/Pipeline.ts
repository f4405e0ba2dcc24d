/**
 * The stream graph of the main job: source → (pure) books, direction, windows → SQLite.
 * Effects happen once per decoded chunk; the per-record work is inside `FlowEngine.apply`.
 */
import { NodeSink } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Clock, Config, Console, Effect, Exit, Stream } from "effect"
import * as fs from "node:fs"
import type { DecodedChunk } from "../dbn/Batch.js"
import { SignalEngine, type WindowSignal } from "../flow/Signals.js"
import { type SignalBatch, SignalsRepo } from "../store/SignalsRepo.js"
import * as AppSignals from "./Signals.js"
import { FlowEngine, type EngineStats } from "../flow/Engine.js"
import type { PressureWindow } from "../flow/PressureWindow.js"
import * as Cursor from "../source/Cursor.js"
import { MarketDataSource, SourceError } from "../source/MarketDataSource.js"
import { CheckpointsRepo } from "../store/CheckpointsRepo.js"
import { FlaggedRepo } from "../store/FlaggedRepo.js"
import { RunsRepo } from "../store/RunsRepo.js"
import { mapSql } from "../store/StoreError.js"
import { WindowsRepo } from "../store/WindowsRepo.js"
import * as TradesOut from "./TradesOut.js"

export interface RunOptions {
  /** Write every classified trade as JSON lines here. */
  readonly tradesOut?: string | undefined
  /** Resume after this cursor (records up to it are skipped by the source). */
  readonly from?: Cursor.Cursor | undefined
  /** Print a progress line on standard error about once a second. */
  readonly progress?: boolean | undefined
  /**
   * Wall milliseconds closed windows and their signals may wait in memory before they are written, all in one
   * transaction with the checkpoint. 0 (the default) writes each chunk's as soon as it is applied: what a live
   * stream and a dashboard need. A replay as fast as possible commits about once a second instead: SQLite's cost
   * is per transaction and per index page a transaction dirties, so a few large ones cost about half of many small
   * ones. Whatever is held is written when the run ends, however it ends.
   */
  readonly commitEveryMs?: number | undefined
  /** Wraps the source's chunk stream (the live command meters and stops it on the budget here). */
  /** Called with each batch of reported signals as soon as their windows close (the signal stream). */
  readonly onSignals?: ((signals: ReadonlyArray<WindowSignal>) => Effect.Effect<void>) | undefined
  /** Called with each batch of closed windows right after it is stored (the dashboard's live heatmap). */
  readonly onWindows?: ((windows: ReadonlyArray<PressureWindow>) => Effect.Effect<void>) | undefined
  /** Called once per chunk after it is applied and stored (the control interface's counters). */
  readonly onChunk?: ((stats: EngineStats, windowsStored: number) => Effect.Effect<void>) | undefined
  readonly around?: (<E, R>(chunks: Stream.Stream<DecodedChunk, E, R>) => Stream.Stream<DecodedChunk, E, R>) | undefined
}

/**
 * How long a window stays open after event time passes its end, for trades stamped inside it that arrive late (e.g.
 * from another channel of the feed). 0 closes it at once (signals come soonest); a trade that comes later is left
 * out of the windows, counted and flagged `LateTrade`.
 */
export const windowGraceMs: Config.Config<number> = Config.integer("IFD_WINDOW_GRACE_MS").pipe(
  Config.validate({ message: "IFD_WINDOW_GRACE_MS must be between 0 and 300000", validation: (n) => n >= 0 && n <= 300_000 }),
  Config.withDefault(0),
  Config.withDescription("Milliseconds a 5-minute window stays open for late trades after event time passes its end")
)

/** `commitEveryMs` of the runs that nobody watches as they go (a replay as fast as possible, a backfill). */
export const batchCommitMs = 1_000

export interface RunSummary {
  readonly source: string
  readonly stats: EngineStats
  readonly windows: number
  readonly signalsReported: number
  /**
   * Trading days of history behind the baselines of the last day seen, and how many a baseline key needs: with
   * fewer, no window can be scored (a first replay into a new database reports no signals).
   */
  readonly baselineDays: number
  readonly baselineDaysNeeded: number
  readonly elapsedMs: number
  readonly recordsPerSecond: number
  readonly cursor: Cursor.Cursor | undefined
}

export const run = Effect.fn("Pipeline.run")(function*(options: RunOptions) {
  const source = yield* MarketDataSource
  const windowsRepo = yield* WindowsRepo
  const flaggedRepo = yield* FlaggedRepo
  const runs = yield* RunsRepo
  const checkpoints = yield* CheckpointsRepo
  const signalsRepo = yield* SignalsRepo
  // The flow features (sweeps, large prints, premium) are computed from the classified trades, so they are always kept.
  const engine = new FlowEngine({ collectTrades: true, graceMs: yield* windowGraceMs })
  const signalEngine = new SignalEngine()
  yield* AppSignals.prime(signalEngine, 20)
  let signalsReported = 0
  let tsFallbacksLogged = 0
  const runId = yield* runs.start(source.name)
  const started = yield* Clock.currentTimeMillis
  let windows = 0
  let cursor = options.from
  let lastProgress = started

  const sql = yield* SqlClient.SqlClient
  const commitEveryMs = options.commitEveryMs ?? 0
  // Closed windows and scored signals not written yet; each signal batch keeps the arrival time of the chunk that
  // closed it (its latency runs up to the write).
  let heldWindows: Array<PressureWindow> = []
  let heldSignals: Array<SignalBatch> = []
  let lastCommit = started

  const hold = (closed: ReadonlyArray<PressureWindow>, signals: ReadonlyArray<WindowSignal>, receivedAt: number | undefined) => {
    for (const w of closed) heldWindows.push(w)
    if (signals.length > 0) heldSignals.push({ signals, receivedAt })
  }

  /** Writes what is held (windows, signals, checkpoint) in one transaction, then logs and announces it. */
  const commit = Effect.gen(function*() {
    lastCommit = yield* Clock.currentTimeMillis
    if (heldWindows.length === 0 && heldSignals.length === 0) return
    const closed = heldWindows
    const batches = heldSignals
    heldWindows = []
    heldSignals = []
    yield* Effect.gen(function*() {
      if (closed.length > 0) {
        yield* windowsRepo.upsert(closed)
        if (cursor !== undefined) yield* checkpoints.put(source.name, Cursor.encode(cursor))
      }
      yield* signalsRepo.insertBatches(batches)
    }).pipe(sql.withTransaction, mapSql("Pipeline.commit"))
    windows += closed.length
    if (closed.length > 0 && options.onWindows !== undefined) yield* options.onWindows(closed)
    for (const b of batches) yield* announce(b.signals)
  })

  /** Logs the reported signals of a stored batch and hands them to `onSignals`. */
  const announce = (signals: ReadonlyArray<WindowSignal>) =>
    Effect.gen(function*() {
      const reported = signals.filter((s) => s.reported)
      for (const s of reported) {
        signalsReported++
        yield* Effect.logInfo("signal").pipe(Effect.annotateLogs({
          window: new Date(s.windowStart).toISOString(),
          expiration: s.expiration,
          strike: s.strike,
          type: s.optionType,
          direction: s.direction,
          bias: s.bias,
          confidence: s.confidence?.toFixed(2),
          tier: s.tier
        }))
      }
      if (options.onSignals !== undefined) yield* options.onSignals(reported)
    })

  const progress = Effect.gen(function*() {
    if (options.progress !== true) return
    const now = yield* Clock.currentTimeMillis
    if (now - lastProgress < 1000) return
    lastProgress = now
    const s = engine.stats
    const rate = s.records / Math.max(1e-3, (now - started) / 1000)
    yield* Console.error(
      `${source.name}: ${s.records.toLocaleString("en-US")} records, ${s.trades.toLocaleString("en-US")} trades, ` +
        `${windows.toLocaleString("en-US")} windows stored, ${(rate / 1e6).toFixed(2)} M records/s`
    )
  })

  const chunks = options.around === undefined ? source.stream(options.from) : options.around(source.stream(options.from))
  const lines = chunks.pipe(
    Stream.mapEffect((chunk) =>
      Effect.gen(function*() {
        const receivedAt = yield* Clock.currentTimeMillis
        const out = engine.apply(chunk)
        const signals = signalEngine.apply(out, engine)
        cursor = Cursor.advance(cursor, chunk)
        // Nothing below reads the chunk's rows: its batch goes back to the decoder for a later chunk.
        chunk.release?.()
        hold(out.closed, signals, receivedAt)
        if (commitEveryMs <= 0 || receivedAt - lastCommit >= commitEveryMs) yield* commit
        if (out.flagged.length > 0) {
          yield* flaggedRepo.insert(out.flagged, runId)
          const first = out.flagged[0]!
          yield* Effect.logWarning("records flagged for review").pipe(Effect.annotateLogs({
            count: out.flagged.length,
            reason: first.reason,
            instrument_id: first.instrumentId,
            ts_event: first.tsEvent.toString(),
            detail: first.detail
          }))
        }
        const fallbacks = engine.stats.tsEventFallbacks
        if (fallbacks > tsFallbacksLogged) {
          yield* Effect.logWarning("undefined ts_event: ts_recv used instead").pipe(
            Effect.annotateLogs({ records: fallbacks - tsFallbacksLogged })
          )
          tsFallbacksLogged = fallbacks
        }
        yield* progress
        if (options.onChunk !== undefined) yield* options.onChunk(engine.stats, windows)
        return out.trades === undefined || options.tradesOut === undefined ? "" : TradesOut.toLines(out.trades)
      })
    )
  )

  const drained = options.tradesOut === undefined
    ? Stream.runDrain(lines)
    : Stream.run(
      lines.pipe(Stream.filter((s) => s.length > 0)),
      NodeSink.fromWritable(
        () => fs.createWriteStream(options.tradesOut!),
        () => new SourceError({ reason: "Read", detail: "could not write the trades file", path: options.tradesOut! })
      )
    )

  // Whatever ends the run (end of data, a corrupt file, SIGINT), the windows still open are stored.
  const finish = (status: "done" | "failed" | "interrupted") =>
    Effect.gen(function*() {
      const rest = engine.flush()
      hold(rest, signalEngine.flush(rest, engine), undefined)
      yield* commit
      const elapsedMs = (yield* Clock.currentTimeMillis) - started
      const summary: RunSummary = {
        source: source.name,
        stats: engine.stats,
        windows,
        signalsReported,
        baselineDays: signalEngine.historyDaysBefore(engine.clockNs),
        baselineDaysNeeded: signalEngine.minDays,
        elapsedMs,
        recordsPerSecond: engine.stats.records / Math.max(1e-3, elapsedMs / 1000),
        cursor
      }
      yield* runs.finish(runId, status, summary)
      return summary
    })

  yield* drained.pipe(
    Effect.onExit((exit) =>
      exit._tag === "Success"
        ? Effect.void
        : finish(Exit.isInterrupted(exit) ? "interrupted" : "failed").pipe(Effect.ignoreLogged)
    )
  )
  return yield* finish("done")
})
