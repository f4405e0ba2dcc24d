import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Logger, Redacted, Stream, SubscriptionRef, TestClock } from "effect"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import { LiveStatus } from "../../src/live/LiveStatus.js"
import * as LiveStatusModule from "../../src/live/LiveStatus.js"
import * as LiveSource from "../../src/live/LiveSource.js"
import type * as Cursor from "../../src/source/Cursor.js"
import { MarketDataSource } from "../../src/source/MarketDataSource.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"
import * as LiveData from "../../src/testing/LiveData.js"
import { Books } from "../../src/book/Books.js"
import {
  bookState,
  booksOf,
  expectedRows,
  isSnapshotRow,
  liveSettings,
  rowsOf,
  servedBatch,
  tsOfRow,
  until
} from "./support.js"

const KEY = "db-unittestapikey1234567890FFFFF"
/** Logs are asserted where they matter (captured); elsewhere they would only clutter the output. */
const quiet = Logger.replace(Logger.defaultLogger, Logger.none)

const settings = (port: number, overrides: Partial<LiveConfig.LiveSettings> = {}) => liveSettings(KEY, port, overrides)

/**
 * Runs the live stream until `n` MBO rows besides gateway snapshot rows arrived; returns every row (snapshot rows
 * too), every chunk's non-MBO record tags, and the books every row built.
 */
const consume = (s: LiveConfig.LiveSettings, n: number, from?: Cursor.Cursor, work: Effect.Effect<void> = Effect.void) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    const tags: Array<string> = []
    const books = new Books()
    let metadata = 0
    let served = 0
    yield* LiveSource.gatewayStream(s, from).pipe(
      Stream.tap(() => work),
      Stream.takeUntil((c) => {
        const before = rows.length
        rowsOf(c, rows)
        for (let i = before; i < rows.length; i++) if (!isSnapshotRow(rows[i]!)) served++
        books.apply(c.mbo)
        for (const o of c.others) tags.push(o._tag)
        if (c.metadata !== undefined) metadata++
        return served >= n
      }),
      Stream.runDrain
    )
    return { rows, tags, metadata, books }
  })

const captureLogs = () => {
  const lines: Array<string> = []
  const layer = Logger.replace(Logger.defaultLogger, Logger.map(Logger.logfmtLogger, (line) => void lines.push(line)))
  return { lines, layer }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

describe("LiveSource", () => {
  it.scoped("serves the gateway's records through the MarketDataSource tag, control messages kept out", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 3000, seed: 1 })
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data) })
      const layer = LiveSource.layer.pipe(Layer.provide(LiveConfig.layer({ apiKey: Redacted.make(KEY), host: "127.0.0.1", port: gw.port })))
      const { rows, tags, metadata, status } = yield* Effect.gen(function*() {
        const source = yield* MarketDataSource
        const rows: Array<string> = []
        const tags: Array<string> = []
        let metadata = 0
        yield* source.stream(undefined).pipe(
          Stream.takeUntil((c) => {
            rowsOf(c, rows)
            for (const o of c.others) tags.push(o._tag)
            if (c.metadata !== undefined) metadata++
            return rows.length >= 3000
          }),
          Stream.runDrain
        )
        const status = yield* (yield* LiveStatus).get
        assert.strictEqual(source.name, "live")
        return { rows, tags, metadata, status }
      }).pipe(Effect.provide(layer), Effect.provide(quiet))
      assert.deepStrictEqual(rows, expectedRows(data))
      assert.strictEqual(metadata, 1)
      assert.isFalse(tags.includes("system") || tags.includes("error"), "heartbeats and acks stay in the client")
      assert.isTrue(tags.includes("symbolMapping"))
      assert.strictEqual(status.records, 3000)
      assert.strictEqual(status.systemMessages, 2)
      assert.strictEqual(status.reconnects, 0)
      assert.strictEqual(status.state, "Stopped")
      assert.deepStrictEqual(status.cursor?.tsEvent, tsOfRow(rows[2999]!))
      assert.deepStrictEqual(gw.connections()[0]!.subscriptions.map((s) => [s.schema, s.snapshot, s.start]), [
        ["mbo", true, undefined],
        ["definition", false, undefined]
      ])
    }))

  it.scopedLive(
    "delivers every served row exactly once across drops, clean closes, 1-byte fragments and a corrupt record",
    () =>
      Effect.gen(function*() {
        const count = 40_000
        const data = LiveData.mboRecords({ count, seed: 42, maxRun: 400 })
        const faults = (i: number): FakeGateway.ConnectionFaults | undefined => {
          if (i >= 14) return undefined
          const every = 2000 + ((i * 797) % 1700)
          if (i === 3) return { corruptAfterRecords: every, fragmentBytes: 1, fragmentRecords: 30 }
          if (i === 5) return { closeAfterRecords: every }
          if (i % 2 === 0) return { dropAfterRecords: every, fragmentBytes: 1, fragmentRecords: 30 }
          return { dropAfterRecords: every }
        }
        const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data), faults, refuseFirst: 1 })
        const logs = captureLogs()
        const result = yield* consume(settings(gw.port), count).pipe(Effect.provide(logs.layer))
        const status = yield* (yield* LiveStatus).get

        const expected = expectedRows(data)
        assert.strictEqual(result.rows.length, expected.length)
        // Row by row: no loss, no duplicate, same order, same fields.
        for (let i = 0; i < expected.length; i++) {
          if (result.rows[i] !== expected[i]) assert.fail(`row ${i}: got ${result.rows[i]}, want ${expected[i]}`)
        }
        assert.strictEqual(result.metadata, 1)

        const conns = gw.connections()
        assert.deepStrictEqual(conns.slice(0, 7).map((c) => c.fault), [
          "refused",
          "dropped",
          "dropped",
          "corrupted",
          "dropped",
          "closed",
          "dropped"
        ])
        // Every reconnect after data asked the gateway to replay from the cursor's ts_event.
        const resumed = conns.filter((c) => c.started && c.index > 1)
        assert.isAbove(resumed.length, 10)
        assert.isTrue(resumed.every((c) => c.subscriptions.every((s) => s.start !== undefined && !s.snapshot)))
        assert.strictEqual(status.records, count)
        assert.isAtLeast(status.reconnects, 14)
        assert.strictEqual(status.pendingGaps.length, 0)
        assert.isTrue(status.lastGap?.replayed)

        const text = logs.lines.join("\n")
        assert.include(text, "Gateway reconnected")
        assert.notInclude(text, KEY)
        assert.notInclude(text, KEY.slice(3, 20))
        assert.notInclude(JSON.stringify(status, (_, v) => typeof v === "bigint" ? v.toString() : v), KEY)
      }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)),
    60_000
  )

  it.scopedLive("keeps what was buffered when the connection dies under a slow consumer, and resumes after it", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 12_000, seed: 11, maxRun: 200 })
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        chunkBytes: 4096,
        faults: [{ closeAfterRecords: 3000 }, { dropAfterRecords: 2500 }, { closeAfterRecords: 4000 }]
      })
      const { rows } = yield* consume(settings(gw.port, { bufferBytes: 65536 }), 12_000, undefined, Effect.sleep("1 millis"))
      assert.deepStrictEqual(rows, expectedRows(data))
      const s = yield* (yield* LiveStatus).get
      assert.isAtLeast(s.pauses, 1, "reading paused while the consumer was behind")
      assert.strictEqual(s.reconnects, 3)
      // The clean close left its 3000 records in the buffer: all were delivered, so the replay starts after them.
      assert.strictEqual(gw.connections()[1]!.subscriptions[0]!.start, tsOfRow(expectedRows(data)[2999]!))
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("resumes from a cursor handed in at start (a restart), skipping exactly what was processed", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 6000, seed: 9, maxRun: 500 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data) })
      // Processed up to row 3210: the cursor counts the rows at its ts_event that were seen.
      const ts = tsOfRow(expected[3210]!)
      const seen = expected.slice(0, 3211).filter((r) => tsOfRow(r) === ts).length
      const { rows } = yield* consume(settings(gw.port), 6000 - 3211, { tsEvent: ts, seen })
      assert.deepStrictEqual(rows, expected.slice(3211))
      assert.strictEqual(gw.connections()[0]!.subscriptions[0]!.start, ts)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("fails with Auth on a bad key, does not retry, and never shows the key", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({
        apiKey: "db-theserverskeyisthisonexxxxxxx",
        data: FakeGateway.records(LiveData.mboRecords({ count: 10 }))
      })
      const logs = captureLogs()
      const layer = LiveSource.layer.pipe(
        Layer.provide(LiveConfig.layer({ apiKey: Redacted.make(KEY), host: "127.0.0.1", port: gw.port }))
      )
      const exit = yield* Effect.flatMap(MarketDataSource, (s) => Stream.runDrain(s.stream(undefined))).pipe(
        Effect.provide(layer),
        Effect.provide(logs.layer),
        Effect.exit
      )
      const e = failureOf(exit)
      assert.strictEqual(e?.reason, "Auth")
      assert.include(e!.message, "Authentication failed")
      assert.notInclude(e!.message, KEY)
      assert.notInclude(String(exit), KEY)
      assert.strictEqual(gw.connections().length, 1, "an auth failure is not retried")
      assert.notInclude(logs.lines.join("\n"), KEY)
    }))

  it.scopedLive("retries after a transient gateway error but stops, with its text, on a symbol error", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 3000, seed: 12 })
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [
          { errorAfterRecords: { records: 500, code: 6, text: "Internal error" } },
          { errorAfterRecords: { records: 500, code: 4, text: "Failed to resolve symbol: NQ.OPT" } }
        ]
      })
      const rows: Array<string> = []
      const exit = yield* LiveSource.gatewayStream(settings(gw.port), undefined).pipe(
        Stream.runForEach((c) => Effect.sync(() => rowsOf(c, rows))),
        Effect.exit
      )
      const e = failureOf(exit)
      assert.strictEqual(e?.reason, "Gateway")
      assert.strictEqual(e?.code, 4)
      assert.include(e!.message, "Failed to resolve symbol")
      assert.strictEqual(gw.connections().length, 2, "the internal error was retried, the symbol error not")
      // The second connection replays from the cursor's ts_event: its 500 records start at the first row with that ts.
      assert.deepStrictEqual(rows, expectedRows(data).slice(0, gw.connections()[1]!.firstRecord! + 500))
      const s = yield* (yield* LiveStatus).get
      assert.strictEqual(s.gatewayErrors, 2)
      assert.strictEqual(s.state, "Stopped")
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scopedLive("gives up after reconnecting fails for longer than the configured limit", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(LiveData.mboRecords({ count: 10 })),
        refuseFirst: 1_000_000
      })
      const exit = yield* Stream.runDrain(LiveSource.gatewayStream(settings(gw.port, { giveUpAfter: Duration.millis(100) }), undefined)).pipe(Effect.exit)
      const e = failureOf(exit)
      assert.oneOf(e?.reason, ["Closed", "Connect"])
      assert.include(e!.message, "gave up after")
      assert.isAtLeast(gw.connections().length, 3)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("reconnects after a heartbeat timeout and resumes after the last delivered record", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 4000, seed: 5 })
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data), faults: [{ stallAfterRecords: 1500 }] })
      const status = yield* LiveStatus
      const fiber = yield* Effect.fork(consume(settings(gw.port, { reconnectBase: Duration.zero }), 4000))
      yield* until(() => status.ref.pipe(SubscriptionRef.get, Effect.runSync).records === 1500)
      yield* TestClock.adjust(Duration.seconds(34))
      assert.strictEqual(gw.connections().length, 1, "still waiting within interval + grace")
      yield* TestClock.adjust(Duration.seconds(2))
      const { rows } = yield* Fiber.join(fiber)
      const expected = expectedRows(data)
      assert.deepStrictEqual(rows, expected)
      const s = yield* status.get
      assert.strictEqual(s.reconnects, 1)
      assert.include(s.lastGap?.reason, "HeartbeatTimeout")
      assert.strictEqual(s.lastGap?.from?.tsEvent, tsOfRow(expected[1499]!))
      assert.strictEqual(gw.connections()[1]!.subscriptions[0]!.start, tsOfRow(expected[1499]!))
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scopedLive("keeps retrying while the gateway refuses connections, then delivers everything", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 2000, seed: 6 })
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data), refuseFirst: 4 })
      const { rows } = yield* consume(settings(gw.port), 2000)
      assert.deepStrictEqual(rows, expectedRows(data))
      assert.strictEqual(gw.connections().length, 5)
      assert.strictEqual((yield* (yield* LiveStatus).get).reconnects, 4)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scopedLive("records a pending gap when the gateway refuses the replay, and goes on live with a snapshot", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 5000, seed: 7 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ dropAfterRecords: 1000 }, { refuseReplay: true, skipOnLive: 500 }, { skipOnLive: 500 }]
      })
      // Live resumes at record 1500; the records sharing its timestamp may be cut in two, so the gap takes them all
      // (it ends after that timestamp). The snapshot rebuilt the books as of record 1500: every live record after it
      // is delivered, those at that timestamp too.
      const end = tsOfRow(expected[1500]!)
      const afterAt = range(1500, expected.length)
      const after = afterAt.map((i) => expected[i]!)
      const { books, rows } = yield* consume(settings(gw.port), 1000 + after.length)
      assert.deepStrictEqual(rows.filter((r) => !isSnapshotRow(r)), [...expected.slice(0, 1000), ...after])
      // Live came with a snapshot of the books as of record 1500, which rebuilt what the gap left out.
      const snapshot = rows.slice(1000, rows.length - after.length)
      assert.isTrue(snapshot.length > 0 && snapshot.every(isSnapshotRow))
      assert.deepStrictEqual(gw.connections()[2]!.snapshot, { at: 1500, records: snapshot.length })
      assert.deepStrictEqual(bookState(books), bookState(booksOf(servedBatch(data), 1500, afterAt)))
      const s = yield* (yield* LiveStatus).get
      assert.strictEqual(s.pendingGaps.length, 1)
      const gap = s.pendingGaps[0]!
      assert.strictEqual(gap.reason, "ReplayRefused")
      assert.include(gap.detail, "replay")
      assert.strictEqual(gap.from?.tsEvent, tsOfRow(expected[999]!))
      assert.strictEqual(gap.to, end + 1n)
      const conns = gw.connections()
      assert.isDefined(conns[1]!.subscriptions[0]!.start)
      assert.deepStrictEqual([conns[2]!.subscriptions[0]!.start, conns[2]!.subscriptions[0]!.snapshot], [undefined, true])
      const taken = yield* (yield* LiveStatus).takePendingGaps
      assert.strictEqual(taken.length, 1)
      assert.strictEqual((yield* (yield* LiveStatus).get).pendingGaps.length, 0)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("records a gap instead of replaying an outage longer than the replay limit", () =>
    Effect.gen(function*() {
      const data = LiveData.mboRecords({ count: 3000, seed: 8 })
      const expected = expectedRows(data)
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [{ dropAfterRecords: 1000 }, { skipOnLive: 100 }]
      })
      const status = yield* LiveStatus
      const end = tsOfRow(expected[1100]!)
      const afterAt = range(1100, expected.length)
      const after = afterAt.map((i) => expected[i]!)
      const fiber = yield* Effect.fork(consume(
        settings(gw.port, { reconnectBase: Duration.seconds(1), reconnectMaxDelay: Duration.seconds(1), replayWithin: Duration.millis(500) }),
        1000 + after.length
      ))
      yield* until(() => Effect.runSync(status.get).state === "Reconnecting")
      yield* TestClock.adjust(Duration.seconds(2))
      const { books, rows } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(rows.filter((r) => !isSnapshotRow(r)), [...expected.slice(0, 1000), ...after])
      // Going live without a replay brought a snapshot of the books as of record 1100, in place of the outage.
      const snapshot = rows.slice(1000, rows.length - after.length)
      assert.isTrue(snapshot.length > 0 && snapshot.every(isSnapshotRow))
      assert.deepStrictEqual(gw.connections()[1]!.snapshot, { at: 1100, records: snapshot.length })
      assert.deepStrictEqual(bookState(books), bookState(booksOf(servedBatch(data), 1100, afterAt)))
      const s = yield* status.get
      assert.deepStrictEqual(s.pendingGaps.map((g) => [g.reason, g.from?.tsEvent, g.to]), [
        ["OutageTooLong", tsOfRow(expected[999]!), end + 1n]
      ])
      assert.isUndefined(gw.connections()[1]!.subscriptions[0]!.start)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))
})
