/**
 * `live`: the gateway stream through the pipeline into SQLite, inside market hours and the data budget,
 * until SIGINT/SIGTERM (runMain interrupts; the pipeline's finalizer stores the open windows).
 * `gateway`: the faithful loopback gateway, to see the live mode work without a Databento account.
 */
import { DateTime, Deferred, Effect, Layer, Option, Redacted, Stream } from "effect"
import type { DecodedChunk } from "../dbn/Batch.js"
import { Budget } from "../gate/Budget.js"
import * as MarketHours from "../gate/MarketHours.js"
import * as LiveConfig from "../live/LiveConfig.js"
import * as LiveSource from "../live/LiveSource.js"
import * as Cursor from "../source/Cursor.js"
import { CheckpointsRepo } from "../store/CheckpointsRepo.js"
import * as Store from "../store/Store.js"
import * as FakeGateway from "../testing/FakeGateway.js"
import * as Control from "./Control.js"
import * as Pipeline from "./Pipeline.js"
import { printSummary } from "./Replay.js"
import { StreamStatus } from "./Status.js"

/**
 * DBN bytes a chunk stands for: 56 per MBO record (+8 with ts_out) plus each other record's own length.
 * The gateway's control messages (heartbeats, acks) are not in chunks, so this slightly under-counts them.
 */
export const bytesOf = (chunk: DecodedChunk): number => {
  let n = chunk.mbo.length * (chunk.mbo.tsOutHi === undefined ? 56 : 64)
  for (const r of chunk.others) n += r.hd.length
  return n
}

export interface LiveOptions {
  readonly db: string | undefined
  readonly ignoreMarketHours: boolean
}

export const run = (options: LiveOptions) =>
  Effect.gen(function*() {
    const base = yield* LiveConfig.config
    const hours = yield* MarketHours.MarketHours
    const budget = yield* Budget
    const checkpoints = yield* CheckpointsRepo
    // A checkpoint means an earlier run (clean stop or kill -9) processed part of this session: replay from the
    // open of the session it is in, so the books are rebuilt from the same records and every window is
    // recomputed and upserted to the same values. With market hours ignored there is no session: go back 24 h.
    const saved = Option.flatMap(yield* checkpoints.get("live"), (s) => Option.fromNullable(Cursor.decode(s)))
    let start = base.start
    if (start === undefined && Option.isSome(saved)) {
      const at = DateTime.unsafeMake(Number(saved.value.tsEvent / 1_000_000n))
      const open = Option.match(hours.session(at), {
        onNone: () => saved.value.tsEvent - 86_400_000_000_000n,
        onSome: (s) => BigInt(s.open) * 1_000_000n
      })
      start = open
      yield* Effect.logInfo("Resuming from a checkpoint: replaying from the session open to rebuild the books").pipe(
        Effect.annotateLogs({ checkpoint: saved.value.tsEvent.toString(), start: new Date(Number(open / 1_000_000n)).toISOString() })
      )
    }
    const settings = { ...base, start }
    const status = yield* StreamStatus
    yield* status.setSource("live")
    const pipeline = Effect.gen(function*() {
      // LiveSource builds a new LiveStatus for each session: the control interface follows it.
      yield* status.attachLive
      yield* status.beginRun
      return yield* Pipeline.run({
        progress: true,
        onSignals: status.onSignals,
        onChunk: (stats, windows) => status.recordStats(stats, { windowsStored: windows }),
        around: (chunks) =>
          status.around(budget.haltWhenExhausted(chunks.pipe(Stream.tap((c) => budget.record(bytesOf(c))))))
      })
    }).pipe(
      Effect.tap(printSummary),
      Effect.provide(LiveSource.layer.pipe(Layer.provide(Layer.succeed(LiveConfig.LiveConfig, settings))))
    )
    // POST /control/stop ends the run like SIGINT: interrupting the pipeline stores the open windows.
    yield* Effect.raceFirst(hours.gate(budget.gate(pipeline)), Deferred.await(status.stop))
  }).pipe(
    Effect.provide(Layer.provideMerge(Control.layer, StreamStatus.Default)),
    Effect.provide(Layer.mergeAll(
      Budget.Default,
      options.ignoreMarketHours ? MarketHours.layer({ ignore: true }) : MarketHours.MarketHours.Default
    ).pipe(Layer.provideMerge(options.db === undefined ? Store.layerConfig : Store.layer({ filename: options.db }))))
  )

export interface GatewayOptions {
  readonly file: string
  readonly port: number
  readonly key: string
  readonly speed: number
}

export const gateway = (options: GatewayOptions) =>
  FakeGateway.runForever({
    apiKey: Redacted.make(options.key),
    data: FakeGateway.file(options.file),
    port: options.port,
    speed: options.speed
  })
