import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Deferred, Duration, Effect, Fiber, Layer, Logger, Redacted, SubscriptionRef, TestClock } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { StreamStatus } from "../../src/app/Status.js"
import { type Phase, StreamManager } from "../../src/app/StreamManager.js"
import { Budget } from "../../src/gate/Budget.js"
import * as BudgetModule from "../../src/gate/Budget.js"
import * as MarketHours from "../../src/gate/MarketHours.js"
import * as HistoricalGapFill from "../../src/historical/GapFill.js"
import * as Historical from "../../src/historical/Historical.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import * as Simulator from "../../src/sim/Simulator.js"
import * as Cursor from "../../src/source/Cursor.js"
import { CheckpointsRepo } from "../../src/store/CheckpointsRepo.js"
import { GapsRepo } from "../../src/store/GapsRepo.js"
import * as Store from "../../src/store/Store.js"
import { WindowsRepo } from "../../src/store/WindowsRepo.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"
import * as FakeHistorical from "../../src/testing/FakeHistorical.js"
import { tempDir } from "../support/TempDir.js"
import { assertSameWindows } from "../support/Windows.js"
import { historicalAnswer, liveSettings, until } from "../live/support.js"

const KEY = "db-managerapikey1234567890ABCDEF"
const quiet = Logger.replace(Logger.defaultLogger, Logger.none)
const ms = (iso: string) => Date.parse(iso)

/** A small simulated session written to a file the fake gateway serves. */
const session = (dir: string, seed: number, targetRecords = 30_000) => {
  const { bytes, truth } = Simulator.generate({
    seed,
    date: "2025-11-26",
    expirations: 1,
    strikesPerExpiration: 6,
    targetRecords,
    collectTrades: false
  })
  const file = path.join(dir, `sim-${seed}.dbn`)
  fs.writeFileSync(file, bytes)
  const decoder = new DbnDecoder()
  decoder.push(bytes)
  const chunk = decoder.drain()
  const events = Cursor.advanceEvents(undefined, chunk)
  return { bytes, truth, file, records: chunk.mbo.length + chunk.others.length, firstTsEvent: events.first!, lastTsEvent: events.cursor!.tsEvent }
}

const settings = (port: number) => liveSettings(KEY, port)

/** The manager over a real SQLite file, with the given market hours and a budget that does not get in the way. */
const managerLayer = (
  db: string,
  hours: Layer.Layer<MarketHours.MarketHours>,
  budget: Partial<BudgetModule.BudgetSettings> = { dailyBudget: 1000 }
) =>
  StreamManager.Default.pipe(
    Layer.provideMerge(StreamStatus.Default),
    Layer.provideMerge(Layer.mergeAll(BudgetModule.layer(budget), hours)),
    Layer.provideMerge(Store.layer({ filename: db }))
  )

const phaseIs = (manager: StreamManager, phase: Phase) =>
  until(() => Effect.runSync(SubscriptionRef.get(manager.state)).phase === phase)

describe("StreamManager", () => {
  it.scoped("waits for the open, replays the session it was restarted in, stores its windows at the close, then starts the next one live", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-11-26T14:00:00Z")) // Wednesday 09:00 EST
      const dir = yield* tempDir
      const { truth, file, records, firstTsEvent } = session(dir, 61)
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.file(file) })
      const services = yield* Layer.build(managerLayer(path.join(dir, "ifd.sqlite"), MarketHours.layer()))
      const { manager, status } = yield* Effect.all({ manager: StreamManager, status: StreamStatus }).pipe(
        Effect.provide(services)
      )
      // An earlier run was stopped early in today's session: its checkpoint is there.
      yield* Effect.flatMap(CheckpointsRepo, (r) => r.put("live", Cursor.encode({ tsEvent: firstTsEvent, seen: 1 }))).pipe(
        Effect.provide(services)
      )
      // Heartbeats every 30 s would make moving the test clock through the 6.5-hour session replay 780 of them.
      const live = liveSettings(KEY, gw.port, { heartbeat: Duration.minutes(30) })
      const fiber = yield* Effect.fork(manager.run({ settings: live, progress: false }).pipe(Effect.provide(services)))
      yield* phaseIs(manager, "WaitingForOpen")
      assert.strictEqual(gw.connections().length, 0)

      yield* TestClock.setTime(ms("2025-11-26T14:30:00Z")) // the open
      yield* phaseIs(manager, "Streaming")
      // Restarted inside the session: the gateway replays it from the open, so the books are rebuilt.
      yield* until(() => gw.connections().length === 1 && gw.connections()[0]!.subscriptions.length > 0)
      assert.strictEqual(gw.connections()[0]!.subscriptions[0]!.start, BigInt(ms("2025-11-26T14:30:00Z")) * 1_000_000n)
      // Everything the gateway serves reaches the pipeline (its record count is what the file holds).
      yield* until(() => Effect.runSync(status.counters).records >= records)

      yield* TestClock.setTime(ms("2025-11-26T21:05:00Z")) // after the 16:00 EST close
      yield* phaseIs(manager, "WaitingForOpen")
      const state = yield* SubscriptionRef.get(manager.state)
      assert.strictEqual(state.sessions, 1)
      assert.strictEqual(state.lastSessionEnd, "market close")
      const stored = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(services))
      assertSameWindows(stored, truth.windows)
      const snapshot = yield* status.snapshot
      assert.strictEqual(snapshot.manager?.phase, "WaitingForOpen")

      // The next session (Thanksgiving is closed: Friday) starts live: the checkpoint is of a session that is over.
      yield* TestClock.setTime(ms("2025-11-28T14:30:00Z"))
      yield* phaseIs(manager, "Streaming")
      yield* until(() => gw.connections().length === 2 && gw.connections()[1]!.subscriptions.length > 0)
      const next = gw.connections()[1]!.subscriptions[0]!
      assert.deepStrictEqual([next.start, next.snapshot], [undefined, true])
      assert.strictEqual((yield* SubscriptionRef.get(manager.state)).sessions, 2)

      yield* Deferred.succeed(status.stop, undefined)
      yield* Fiber.join(fiber)
      assert.strictEqual((yield* SubscriptionRef.get(manager.state)).phase, "Stopped")
    }).pipe(Effect.provide(quiet)))

  it.scopedLive("stores a gap it could not fill as pending, with its bounds, and one it filled as recovered", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const { truth, file, bytes, lastTsEvent } = session(dir, 62)
      const run = (fill: boolean) =>
        Effect.gen(function*() {
          const gw = yield* FakeGateway.serve({
            apiKey: KEY,
            data: FakeGateway.file(file),
            faults: [{ dropAfterRecords: 8000 }, { refuseReplay: true }, { skipOnLive: 3000 }]
          })
          const api = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.01, dataFor: historicalAnswer(bytes, true) })
          // The 3,000 records the gateway skips span more event time than the 5 minutes filled in place by default.
          const live = { ...settings(gw.port), fillWithin: Duration.hours(1) }
          const services = yield* Layer.build(
            managerLayer(path.join(dir, `gaps-${fill}.sqlite`), MarketHours.layer({ ignore: true }))
          )
          const { manager, status } = yield* Effect.all({ manager: StreamManager, status: StreamStatus }).pipe(
            Effect.provide(services)
          )
          const fillLayer = HistoricalGapFill.layer.pipe(
            Layer.provide(Historical.layer({ apiKey: Redacted.make(KEY), baseUrl: api.url })),
            Layer.provide(NodeHttpClient.layerUndici)
          )
          const fiber = yield* Effect.fork(
            manager.run({ settings: live, progress: false, fill: fill ? fillLayer : undefined }).pipe(
              Effect.provide(services)
            )
          )
          yield* until(() => Effect.runSync(status.counters).lastTsEvent === lastTsEvent)
          yield* Deferred.succeed(status.stop, undefined)
          yield* Fiber.join(fiber)
          const gaps = yield* Effect.flatMap(GapsRepo, (r) => r.list()).pipe(Effect.provide(services))
          const windows = yield* Effect.flatMap(WindowsRepo, (r) => r.all()).pipe(Effect.provide(services))
          return { gaps, windows }
        })

      const unfilled = yield* run(false)
      assert.strictEqual(unfilled.gaps.length, 1)
      const gap = unfilled.gaps[0]!
      assert.deepStrictEqual([gap.status, gap.reason, gap.records], ["pending", "ReplayRefused", 0])
      assert.isDefined(gap.toTs)
      assert.isTrue(gap.toTs! > gap.fromTs)

      const filled = yield* run(true)
      assert.strictEqual(filled.gaps.length, 1)
      const recovered = filled.gaps[0]!
      // The gap starts where the connection dropped (its end depends on how far the live feed moved on meanwhile).
      assert.deepStrictEqual([recovered.status, recovered.fromTs, recovered.fromSeen], ["recovered", gap.fromTs, gap.fromSeen])
      assert.isTrue(recovered.toTs! > recovered.fromTs)
      assert.isAbove(recovered.records, 3000)
      // Filled in place, the live run stores exactly the windows of the whole session.
      assertSameWindows(filled.windows, truth.windows)
    }).pipe(Effect.provide(quiet)))

  it.scopedLive("stops the session at the budget cutoff on the bytes received, and a restart the same day waits", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const { file, records, bytes } = session(dir, 63, 60_000)
      const db = path.join(dir, "budget.sqlite")
      // $8 of the $10 day buys 300,000 bytes: a fraction of the session's ~1.7 MB.
      const budget = { dailyBudget: 10, cutoff: 0.8, pricePerGb: 8e9 / 300_000 }
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.file(file) })
      const runOnce = Effect.gen(function*() {
        const services = yield* Layer.build(managerLayer(db, MarketHours.layer({ ignore: true }), budget))
        const { manager, status } = yield* Effect.all({ manager: StreamManager, status: StreamStatus }).pipe(
          Effect.provide(services)
        )
        const fiber = yield* Effect.fork(
          manager.run({ settings: settings(gw.port), progress: false }).pipe(Effect.provide(services))
        )
        yield* phaseIs(manager, "BudgetExhausted")
        const state = yield* SubscriptionRef.get(manager.state)
        const spent = yield* Effect.flatMap(Budget, (b) => b.state).pipe(Effect.provide(services))
        const processed = (yield* status.counters).records
        yield* Deferred.succeed(status.stop, undefined)
        yield* Fiber.join(fiber)
        return { state, spent, processed }
      }).pipe(Effect.scoped)

      const first = yield* runOnce
      assert.strictEqual(first.state.lastSessionEnd, "budget cutoff")
      assert.isTrue(first.spent.exhausted)
      assert.isAtLeast(first.spent.liveBytes, 300_000)
      // The stream ended within a socket read of the cutoff, before the end of the session.
      assert.isBelow(first.processed, records)
      assert.isAbove(first.processed, 0)
      assert.isBelow(first.spent.liveBytes, bytes.length)
      const connections = gw.connections().length

      const second = yield* runOnce
      assert.strictEqual(second.state.sessions, 0)
      assert.strictEqual(gw.connections().length, connections)
      assert.isAtLeast(second.spent.liveBytes, first.spent.liveBytes)
    }).pipe(Effect.provide(quiet)))
})
