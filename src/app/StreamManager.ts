/**
 * The one place that runs the live stream and knows its state: source (the gateway, with the historical fill for
 * gaps it can not replay) → pipeline → storage, inside market hours and the data budget, resumed from the last
 * checkpoint, steered by the control interface (pause, resume, stop). Gaps are stored as they open, close and are
 * recovered, so a gap the fill could not cover is never lost silently. Issue 6 (StreamManager).
 */
import { Cause, Clock, DateTime, Deferred, Effect, Layer, Option, Stream, SubscriptionRef } from "effect"
import { Budget, formatReport } from "../gate/Budget.js"
import { MarketHours } from "../gate/MarketHours.js"
import { ByteMeter, type GapFill } from "../live/GapFill.js"
import { LiveConfig, type LiveSettings } from "../live/LiveConfig.js"
import * as LiveSource from "../live/LiveSource.js"
import { LiveStatus, type Snapshot as LiveSnapshot } from "../live/LiveStatus.js"
import * as Cursor from "../source/Cursor.js"
import { CheckpointsRepo } from "../store/CheckpointsRepo.js"
import { GapsRepo } from "../store/GapsRepo.js"
import { SignalsRepo } from "../store/SignalsRepo.js"
import * as Pipeline from "./Pipeline.js"
import * as Spending from "./Spending.js"
import { StreamStatus } from "./Status.js"

/**
 * Where the stream is: waiting for the market to open, streaming a session, waiting for the next trade date after
 * the budget cutoff, stopping (a stop was asked for: open windows are being stored), stopped.
 */
export type Phase = "Idle" | "WaitingForOpen" | "Streaming" | "BudgetExhausted" | "Stopping" | "Stopped"

export interface ManagerState {
  readonly phase: Phase
  /** Wall clock (ms) the phase began. */
  readonly since: number
  /** Live sessions started (one per market-hours opening or budget day). */
  readonly sessions: number
  /** Whether gaps the gateway can not replay are filled from the historical API. */
  readonly gapFill: boolean
  /** Stored gaps by status (all runs on this database). */
  readonly gaps: { readonly open: number; readonly pending: number; readonly recovered: number }
  /** Why the last session ended. */
  readonly lastSessionEnd: string | undefined
}

/** The source the checkpoint and the gaps are stored under. */
export const SOURCE = "live"

export interface RunOptions {
  readonly settings: LiveSettings
  /** The historical fill for gaps; none: gaps are stored as pending. */
  readonly fill?: Layer.Layer<GapFill, never, LiveConfig | Budget> | undefined
  /** Called with each session's summary (the command prints it). */
  readonly onSummary?: ((summary: Pipeline.RunSummary) => Effect.Effect<void>) | undefined
  readonly progress?: boolean | undefined
}

export class StreamManager extends Effect.Service<StreamManager>()("ifd/app/StreamManager", {
  effect: Effect.gen(function*() {
    const hours = yield* MarketHours
    const budget = yield* Budget
    const checkpoints = yield* CheckpointsRepo
    const gapsRepo = yield* GapsRepo
    const signals = yield* SignalsRepo
    const status = yield* StreamStatus
    const state = yield* SubscriptionRef.make<ManagerState>({
      phase: "Idle",
      since: yield* Clock.currentTimeMillis,
      sessions: 0,
      gapFill: false,
      gaps: yield* Effect.orElseSucceed(gapsRepo.counts(), () => ({ open: 0, pending: 0, recovered: 0 })),
      lastSessionEnd: undefined
    })

    yield* status.attachManager(SubscriptionRef.get(state))

    const setPhase = (phase: Phase, annotations: Record<string, string> = {}) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const before = yield* SubscriptionRef.modify(state, (s) => [s.phase, { ...s, phase, since: now }] as const)
        if (before !== phase) {
          yield* Effect.logInfo("Stream phase").pipe(Effect.annotateLogs({ from: before, to: phase, ...annotations }))
        }
      })

    /**
     * Where a session's stream starts. A checkpoint inside the session now in progress means an earlier run processed
     * part of it (whether it stopped cleanly or was killed): replay from the session's open, so the books are rebuilt
     * from the same records and every window is recomputed and upserted to the same values. A checkpoint of a session
     * that is over starts the new one live (with a snapshot). With market hours ignored there are no sessions: replay
     * from 24 h before the checkpoint.
     */
    const startOf = Effect.gen(function*() {
      const saved = Option.flatMap(yield* checkpoints.get(SOURCE), (s) => Option.fromNullable(Cursor.decode(s)))
      if (Option.isNone(saved)) return undefined
      const now = yield* Clock.currentTimeMillis
      const at = DateTime.unsafeMake(Number(saved.value.tsEvent / 1_000_000n))
      const start = Option.match(hours.session(at), {
        onNone: () => saved.value.tsEvent - 86_400_000_000_000n,
        onSome: (s) => (s.open <= now && now < s.close ? BigInt(s.open) * 1_000_000n : undefined)
      })
      if (start === undefined) return undefined
      yield* Effect.logInfo("Resuming from a checkpoint: replaying from the session open to rebuild the books").pipe(
        Effect.annotateLogs({
          checkpoint: saved.value.tsEvent.toString(),
          start: new Date(Number(start / 1_000_000n)).toISOString()
        })
      )
      return start
    })

    /** Stores the gaps of a snapshot (idempotent upserts) and refreshes the counts. */
    const storeGaps = (s: LiveSnapshot) =>
      Effect.gen(function*() {
        for (const g of s.pendingGaps) yield* gapsRepo.put(SOURCE, g, g.to === undefined ? "open" : "pending")
        for (const g of s.recoveredGaps) yield* gapsRepo.put(SOURCE, g, "recovered", g.records)
        const gaps = yield* gapsRepo.counts()
        yield* SubscriptionRef.update(state, (m) => ({ ...m, gaps }))
      }).pipe(
        // A failed write of the gap table must not stop the stream; it is logged and written again on the next change.
        Effect.catchAll((e) => Effect.logError("Could not store gaps").pipe(Effect.annotateLogs({ error: e.message })))
      )

    /** Follows the session's gaps into the store whenever they change. */
    const followGaps = (live: LiveStatus["Type"]) =>
      live.changes.pipe(
        Stream.changesWith((a, b) => a.pendingGaps === b.pendingGaps && a.recoveredGaps === b.recoveredGaps),
        Stream.drop(1),
        Stream.runForEach(storeGaps)
      )

    /** One live session: until the market closes, the budget cutoff, a stop, or a failure that is not retried. */
    const session = (options: RunOptions, start: bigint | undefined) =>
      Effect.gen(function*() {
        const live = yield* LiveStatus
        // LiveSource builds a new LiveStatus for each session: the control interface follows it.
        yield* status.attachLive
        yield* status.beginRun
        yield* SubscriptionRef.update(state, (m) => ({ ...m, sessions: m.sessions + 1 }))
        yield* setPhase("Streaming", start === undefined ? {} : { replayFrom: start.toString() })
        yield* Effect.forkScoped(followGaps(live))
        const summary = yield* Pipeline.run({
          progress: options.progress ?? true,
          onSignals: status.onSignals,
          onWindows: status.onWindows,
          onChunk: (stats, windows) => status.recordStats(stats, { windowsStored: windows }),
          // The socket's bytes are metered by LiveSource (ByteMeter); the run ends after the chunk that hits the cutoff.
          around: (chunks) => status.around(budget.haltWhenExhausted(chunks))
        }).pipe(Effect.ensuring(Effect.flatMap(live.get, storeGaps)))
        if (options.onSummary !== undefined) yield* options.onSummary(summary)
        return summary
      }).pipe(
        Effect.scoped,
        Effect.onExit((exit) =>
          Effect.gen(function*() {
            const spent = yield* budget.state
            const end = exit._tag === "Success"
              ? spent.exhausted ? "budget cutoff" : "stream ended"
              : (yield* Deferred.isDone(status.stop))
              ? "stop requested"
              : Cause.isInterruptedOnly(exit.cause)
              ? "market close"
              : "failed"
            yield* SubscriptionRef.update(state, (m) => ({ ...m, lastSessionEnd: end }))
            // The day's and the month's spending and the cost per reported signal, once per session.
            const counts = yield* Spending.signalCounts(signals, spent).pipe(Effect.orElseSucceed(() => ({})))
            const report = yield* budget.report(counts)
            yield* Effect.logInfo("Live session ended").pipe(Effect.annotateLogs({ end, budget: formatReport(report) }))
            if (spent.exhausted) yield* setPhase("BudgetExhausted", { resumesAt: new Date(spent.resetsAt).toISOString() })
            else if (!(yield* Deferred.isDone(status.stop))) yield* setPhase("WaitingForOpen", { after: end })
          })
        )
      )

    /**
     * Streams until stopped (SIGINT/SIGTERM interrupt it; `POST /control/stop` ends it the same way): each market
     * session once the market opens, each trade date's budget until its cutoff. Fails only when the gateway refuses
     * for good (a rejected key, a bad subscription) or storage fails.
     */
    const run = (options: RunOptions) =>
      Effect.gen(function*() {
        yield* SubscriptionRef.update(state, (m) => ({ ...m, gapFill: options.fill !== undefined }))
        yield* status.setSource("live")
        const market = yield* hours.status
        yield* setPhase((yield* budget.exhausted) ? "BudgetExhausted" : market.open ? "Idle" : "WaitingForOpen")
        const sourceFor = (settings: LiveSettings) => {
          const config = Layer.merge(
            Layer.succeed(LiveConfig, settings),
            Layer.succeed(ByteMeter, { record: budget.record })
          )
          return options.fill === undefined
            ? LiveSource.layer.pipe(Layer.provide(config))
            : LiveSource.layer.pipe(
              Layer.provide(options.fill),
              Layer.provide(Layer.merge(config, Layer.succeed(Budget, budget)))
            )
        }
        // Each session decides its start anew: an explicit start applies to the first one only.
        let first = true
        const oneSession = Effect.gen(function*() {
          const start = first && options.settings.start !== undefined ? options.settings.start : yield* startOf
          first = false
          return yield* Effect.provide(session(options, start), sourceFor({ ...options.settings, start }))
        })
        const sessions = hours.gate(budget.gate(oneSession))
        // POST /control/stop ends the run like SIGINT: interrupting the pipeline stores the open windows.
        yield* Effect.raceFirst(
          sessions,
          Effect.zipRight(Deferred.await(status.stop), setPhase("Stopping"))
        )
      }).pipe(Effect.ensuring(setPhase("Stopped")))

    return { state, run, storeGaps } as const
  })
}) {}
