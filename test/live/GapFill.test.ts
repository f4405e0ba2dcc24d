import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { type Context, Duration, Effect, Fiber, Layer, Logger, Redacted, Stream, TestClock } from "effect"
import { Budget } from "../../src/gate/Budget.js"
import * as HistoricalGapFill from "../../src/historical/GapFill.js"
import * as Historical from "../../src/historical/Historical.js"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import { LiveStatus } from "../../src/live/LiveStatus.js"
import * as LiveStatusModule from "../../src/live/LiveStatus.js"
import * as LiveSource from "../../src/live/LiveSource.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"
import * as FakeHistorical from "../../src/testing/FakeHistorical.js"
import * as LiveData from "../../src/testing/LiveData.js"
import { budgetLayer } from "../gate/support.js"
import { Books } from "../../src/book/Books.js"
import {
  bookState,
  booksOf,
  expectedRows,
  historicalAnswer,
  isSnapshotRow,
  liveSettings,
  rowsOf,
  servedBatch,
  tsOfRow,
  until
} from "./support.js"

const KEY = "db-gapfillapikey1234567890ABCDEF"
const quiet = Logger.replace(Logger.defaultLogger, Logger.none)

const settings = (port: number, overrides: Partial<LiveConfig.LiveSettings> = {}) => liveSettings(KEY, port, overrides)

/** LiveStatus plus the historical fallback over a loopback fake of the API, metered by a Budget. */
const withFill = (fake: FakeHistorical.FakeHistorical, live: LiveConfig.LiveSettings, dailyBudget = 10) =>
  Layer.mergeAll(
    LiveStatusModule.layer,
    HistoricalGapFill.layer.pipe(
      Layer.provide(Layer.succeed(LiveConfig.LiveConfig, live)),
      Layer.provideMerge(
        Historical.layer({ apiKey: Redacted.make(KEY), baseUrl: fake.url }).pipe(
          Layer.provide(NodeHttpClient.layerUndici),
          Layer.provideMerge(budgetLayer({ dailyBudget, cutoff: 1 }))
        )
      )
    )
  )

/** Runs the live stream until `n` MBO rows arrived. */
const consume = (s: LiveConfig.LiveSettings, n: number) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    yield* LiveSource.gatewayStream(s, undefined).pipe(
      Stream.takeUntil((c) => {
        rowsOf(c, rows)
        return rows.length >= n
      }),
      Stream.runDrain
    )
    return { rows }
  })

/**
 * Streams (the books built from every row) until the fourth connection, the one after a failed fill, is streaming
 * and its snapshot has been delivered.
 */
const untilRebuilt = <R extends LiveStatus>(
  gw: FakeGateway.FakeGateway,
  s: LiveConfig.LiveSettings,
  services: Context.Context<R>
) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    const books = new Books()
    const fiber = yield* LiveSource.gatewayStream(s, undefined).pipe(
      Stream.runForEach((c) =>
        Effect.sync(() => {
          rowsOf(c, rows)
          books.apply(c.mbo)
        })
      ),
      Effect.provide(services),
      Effect.fork
    )
    const status = yield* Effect.provide(LiveStatus, services)
    yield* until(() => {
      const snap = Effect.runSync(status.get)
      const snapshot = gw.connections()[3]?.snapshot
      return snapshot !== undefined && gw.connections()[3]!.subscriptions.length > 0 &&
        snap.state === "Streaming" && snap.gapFillFailures === 1 &&
        rows.filter(isSnapshotRow).length === snapshot.records
    })
    yield* Fiber.interrupt(fiber)
    return { books, rows, status }
  })

describe("LiveSource with the historical gap fill", () => {
  it.scopedLive("fills a gap the gateway refused to replay, in place, so every record arrives once and in order", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 5000, seed: 7 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ dropAfterRecords: 1000 }, { refuseReplay: true }, { skipOnLive: 500 }]
      })
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.25, dataFor: historicalAnswer(data) })
      const s = settings(gw.port)
      const services = yield* Layer.build(withFill(fake, s))
      const { rows } = yield* consume(s, 5000).pipe(Effect.provide(services))
      assert.strictEqual(rows.length, expected.length)
      assert.deepStrictEqual(rows, expected)
      // The gap runs from the cursor (record 999) through the whole timestamp live resumed in (record 1500's).
      const end = tsOfRow(expected[1500]!)
      const throughEnd = expected.filter((r) => tsOfRow(r) <= end).length
      assert.isAbove(throughEnd, 1500)
      const filled = throughEnd - 1000
      const requests = fake.requests()
      assert.isTrue(requests.every((r) => r.authorized && r.status === 200))
      const ranges = requests.filter((r) => r.endpoint === "timeseries.get_range")
      assert.deepStrictEqual(ranges.map((r) => r.form["schema"]).sort(), ["definition", "mbo"])
      for (const r of ranges) {
        assert.strictEqual(r.form["start"], tsOfRow(expected[999]!).toString())
        assert.strictEqual(r.form["end"], (end + 1n).toString())
        assert.strictEqual(r.form["stype_in"], "parent")
        assert.strictEqual(r.form["symbols"], "NQ.OPT")
      }
      // Each range was priced before it was fetched.
      for (const schema of ["definition", "mbo"]) {
        const i = requests.findIndex((r) => r.endpoint === "metadata.get_cost" && r.form["schema"] === schema)
        const j = requests.findIndex((r) => r.endpoint === "timeseries.get_range" && r.form["schema"] === schema)
        assert.isTrue(i >= 0 && i < j)
      }
      const snap = yield* Effect.flatMap(LiveStatus, (status) => status.get).pipe(Effect.provide(services))
      assert.strictEqual(snap.gapsRecovered, 1)
      assert.strictEqual(snap.gapRecordsRecovered, filled)
      assert.deepStrictEqual(snap.pendingGaps, [])
      // Going live after a gap that will be filled needs no snapshot: the books carry on.
      assert.deepStrictEqual(
        [gw.connections()[2]!.subscriptions[0]!.start, gw.connections()[2]!.subscriptions[0]!.snapshot],
        [undefined, false]
      )
      const spent = yield* Effect.flatMap(Budget, (b) => b.state).pipe(Effect.provide(services))
      assert.closeTo(spent.historicalUsd, 0.5, 1e-9)
    }).pipe(Effect.provide(quiet)))

  it.scopedLive("fills records the gateway skipped for a slow reader, in place, without reconnecting", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 4000, seed: 10 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ skipAfterRecords: { records: 1200, skip: 300 } }]
      })
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.1, dataFor: historicalAnswer(data) })
      const s = settings(gw.port)
      const services = yield* Layer.build(withFill(fake, s))
      const { rows } = yield* consume(s, 4000).pipe(Effect.provide(services))
      assert.deepStrictEqual(rows, expected)
      // The fill runs from the last record before the skip through the whole timestamp the stream came back in.
      const end = tsOfRow(expected[1500]!)
      const snap = yield* Effect.flatMap(LiveStatus, (status) => status.get).pipe(Effect.provide(services))
      assert.deepStrictEqual(snap.recoveredGaps.map((g) => [g.reason, g.from?.tsEvent, g.to, g.records]), [
        ["RecordsSkipped", tsOfRow(expected[1199]!), end + 1n, expected.filter((r) => tsOfRow(r) <= end).length - 1200]
      ])
      assert.deepStrictEqual(snap.pendingGaps, [])
      assert.strictEqual(gw.connections().length, 1)
    }).pipe(Effect.provide(quiet)))

  it.scoped("fills an outage longer than the replay limit from history", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 3000, seed: 8 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ dropAfterRecords: 1000 }, { skipOnLive: 100 }]
      })
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.1, dataFor: historicalAnswer(data) })
      const s = settings(gw.port, {
        reconnectBase: Duration.seconds(1),
        reconnectMaxDelay: Duration.seconds(1),
        replayWithin: Duration.millis(500)
      })
      const services = yield* Layer.build(withFill(fake, s))
      const status = yield* Effect.provide(LiveStatus, services)
      const fiber = yield* Effect.fork(consume(s, 3000).pipe(Effect.provide(services)))
      yield* until(() => Effect.runSync(status.get).state === "Reconnecting")
      yield* TestClock.adjust(Duration.seconds(2))
      const { rows } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(rows, expected)
      assert.isUndefined(gw.connections()[1]!.subscriptions[0]!.start)
      const snap = yield* status.get
      assert.strictEqual(snap.gapsRecovered, 1)
      assert.deepStrictEqual(snap.pendingGaps, [])
    }).pipe(Effect.provide(quiet)))

  it.scopedLive("leaves a gap it could not afford pending, then rebuilds the books from a snapshot", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 5000, seed: 9 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ dropAfterRecords: 1000 }, { refuseReplay: true }, { skipOnLive: 500 }]
      })
      // Each query costs $6 against a $10 day: the fill is refused before any data is fetched.
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 6, dataFor: historicalAnswer(data) })
      const s = settings(gw.port)
      const end = tsOfRow(expected[1500]!)
      const { books, rows, status } = yield* untilRebuilt(gw, s, yield* Layer.build(withFill(fake, s)))
      // Everything delivered besides the snapshot is the served data, in order, once; nothing from inside the
      // unfilled gap.
      assert.deepStrictEqual(rows.slice(0, 1000), expected.slice(0, 1000))
      const served = rows.filter((r) => !isSnapshotRow(r))
      const index = new Map(expected.map((r, i) => [r, i]))
      const positions = served.map((r) => index.get(r)!)
      assert.isTrue(positions.every((p, i) => p !== undefined && (i === 0 || p > positions[i - 1]!)))
      assert.isTrue(served.slice(1000).every((r) => tsOfRow(r) > end))
      // The snapshot came in one piece, followed only by records from where it was taken, and rebuilt the books.
      const snapshotAt = gw.connections()[3]!.snapshot!.at
      const firstSnapshotRow = rows.findIndex(isSnapshotRow)
      const snapshotRows = rows.filter(isSnapshotRow).length
      assert.isAbove(snapshotRows, 0)
      assert.isTrue(rows.slice(firstSnapshotRow, firstSnapshotRow + snapshotRows).every(isSnapshotRow))
      const afterSnapshot = rows.slice(firstSnapshotRow + snapshotRows).map((r) => index.get(r)!)
      // Every record from the snapshot's moment on, none left out: those sharing the first timestamp too.
      assert.deepStrictEqual(afterSnapshot, Array.from({ length: afterSnapshot.length }, (_, i) => snapshotAt + i))
      assert.deepStrictEqual(bookState(books), bookState(booksOf(servedBatch(data), snapshotAt, afterSnapshot)))
      const snap = yield* status.get
      assert.deepStrictEqual([snap.gapsRecovered, snap.gapRecordsRecovered], [0, 0])
      const [refused, rebuilt] = snap.pendingGaps
      assert.deepStrictEqual([refused!.reason, refused!.from?.tsEvent, refused!.to], ["ReplayRefused", tsOfRow(expected[999]!), end + 1n])
      assert.include(refused!.detail, "Budget")
      // The failed fill left the books without the gap: the next connection went live with a snapshot.
      assert.strictEqual(rebuilt!.reason, "FillFailed")
      const last = gw.connections()[3]!.subscriptions[0]!
      assert.deepStrictEqual([last.start, last.snapshot], [undefined, true])
      assert.isFalse(fake.requests().some((r) => r.endpoint === "timeseries.get_range" && r.status === 200))
    }).pipe(Effect.provide(quiet)))

  it.scopedLive("leaves a gap longer than the fill bound pending without asking the API, then rebuilds from a snapshot", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 5000, seed: 10 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ dropAfterRecords: 1000 }, { refuseReplay: true }, { skipOnLive: 500 }]
      })
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.01, dataFor: historicalAnswer(data) })
      // Cheap enough, but any gap is longer than a nanosecond.
      const s = settings(gw.port, { fillWithin: Duration.nanos(1n) })
      const { books, rows, status } = yield* untilRebuilt(gw, s, yield* Layer.build(withFill(fake, s)))
      assert.deepStrictEqual(fake.requests(), [])
      const snap = yield* status.get
      assert.deepStrictEqual([snap.gapsRecovered, snap.gapFillFailures], [0, 1])
      const [tooLong, rebuilt] = snap.pendingGaps
      assert.deepStrictEqual([tooLong!.reason, tooLong!.from?.tsEvent], ["ReplayRefused", tsOfRow(expected[999]!)])
      assert.include(tooLong!.detail, "IFD_GAP_FILL_WITHIN_S")
      assert.strictEqual(rebuilt!.reason, "FillFailed")
      // The books after the snapshot are the served data's as of the snapshot, then every live record after it.
      const snapshotAt = gw.connections()[3]!.snapshot!.at
      const index = new Map(expected.map((r, i) => [r, i]))
      const afterSnapshot = rows.slice(rows.findIndex(isSnapshotRow)).filter((r) => !isSnapshotRow(r)).map((r) => index.get(r)!)
      assert.deepStrictEqual(afterSnapshot, Array.from({ length: afterSnapshot.length }, (_, i) => snapshotAt + i))
      assert.deepStrictEqual(bookState(books), bookState(booksOf(servedBatch(data), snapshotAt, afterSnapshot)))
    }).pipe(Effect.provide(quiet)))
})
