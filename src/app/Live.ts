/**
 * `live`: the gateway stream through the pipeline into SQLite, run by the StreamManager inside market hours and the
 * data budget, until SIGINT/SIGTERM or `POST /control/stop` (the pipeline's finalizer stores the open windows).
 * `gateway`: the faithful loopback gateway, to see the live mode work without a Databento account.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer, Redacted } from "effect"
import { Budget } from "../gate/Budget.js"
import * as MarketHours from "../gate/MarketHours.js"
import * as HistoricalGapFill from "../historical/GapFill.js"
import * as Historical from "../historical/Historical.js"
import * as LiveConfig from "../live/LiveConfig.js"
import * as Store from "../store/Store.js"
import * as FakeGateway from "../testing/FakeGateway.js"
import * as Control from "./Control.js"
import { printSummary } from "./Replay.js"
import { StreamStatus } from "./Status.js"
import { StreamManager } from "./StreamManager.js"

export interface LiveOptions {
  readonly db: string | undefined
  readonly ignoreMarketHours: boolean
}

/** IFD_GAP_FILL=false keeps gaps pending instead of buying them from the historical API. */
export const gapFillConfig = Config.boolean("IFD_GAP_FILL").pipe(
  Config.withDefault(true),
  Config.withDescription("Fill gaps the gateway can not replay from Databento's historical API (priced first)")
)

export const run = (options: LiveOptions) =>
  Effect.gen(function*() {
    const settings = yield* LiveConfig.config
    // The historical client's settings (IFD_HISTORICAL_URL, retries, the same key) are read now, so a bad one is a
    // startup error rather than a surprise at the first gap.
    const fill = (yield* gapFillConfig)
      ? HistoricalGapFill.layer.pipe(
        Layer.provide(Historical.layer(yield* Historical.config)),
        Layer.provide(NodeHttpClient.layerUndici)
      )
      : undefined
    const manager = yield* StreamManager
    yield* manager.run({ settings, fill, onSummary: printSummary })
  }).pipe(
    Effect.provide(StreamManager.Default.pipe(Layer.provideMerge(Layer.provideMerge(Control.layer, StreamStatus.Default)))),
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
