import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Logger, Redacted, Stream, TestClock } from "effect"
import { Books } from "../../src/book/Books.js"
import { type DecodedChunk, mboAt } from "../../src/dbn/Batch.js"
import { SystemCode, UNDEF_PRICE } from "../../src/dbn/Constants.js"
import { DbnWriter } from "../../src/dbn/Encoder.js"
import type { DbnRecord, MboMsg, SymbolMappingMsg, SystemMsg } from "../../src/dbn/Records.js"
import type { GatewayError } from "../../src/live/GatewayError.js"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import * as LiveStatus from "../../src/live/LiveStatus.js"
import * as Session from "../../src/live/Session.js"
import * as Decode from "../../src/source/Decode.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"
import * as LiveData from "../../src/testing/LiveData.js"
import { bookState, booksOf, servedBatch } from "../live/support.js"
import { fixture, fixturesPresent } from "../support/Fixtures.js"

const KEY = "db-unittestapikey1234567890FFFFF"

const settings = (port: number, overrides: Partial<LiveConfig.LiveSettings> = {}): LiveConfig.LiveSettings => ({
  ...LiveConfig.defaults,
  apiKey: Redacted.make(KEY),
  host: "127.0.0.1",
  port,
  ...overrides
})

interface Received {
  readonly metadata: Array<NonNullable<DecodedChunk["metadata"]>>
  readonly others: Array<DbnRecord>
  readonly seq: Array<number>
  readonly ts: Array<bigint>
}

/** Opens a session and decodes until `rows` MBO rows (and `until` holds) have arrived. */
const receive = (
  port: number,
  request: Session.SessionRequest,
  rows: number,
  until: (r: Received) => boolean = () => true,
  overrides: Partial<LiveConfig.LiveSettings> = {}
) =>
  Effect.gen(function*() {
    const session = yield* Session.open(settings(port, overrides), request)
    const r: Received = { metadata: [], others: [], seq: [], ts: [] }
    yield* Decode.decodeStream(session.bytes).pipe(
      Stream.takeUntil((c) => {
        if (c.metadata !== undefined) r.metadata.push(c.metadata)
        r.others.push(...c.others)
        for (let i = 0; i < c.mbo.length; i++) {
          r.seq.push(c.mbo.sequence[i]!)
          r.ts.push((BigInt(c.mbo.tsEventHi[i]!) << 32n) | BigInt(c.mbo.tsEventLo[i]!))
        }
        return r.seq.length >= rows && until(r)
      }),
      Stream.runDrain
    )
    return r
  }).pipe(Effect.scoped, Effect.provide(LiveStatus.layer), Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none)))

/** Waits for something a real socket peer does (not for time): polls the condition on the event loop. */
const until = (cond: () => boolean) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const check = () => (cond() ? resolve() : setTimeout(check, 1))
      check()
    })
  )

const system = (r: Received) => r.others.filter((o): o is SystemMsg => o._tag === "system")
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe("FakeGateway", () => {
  const data = LiveData.mboRecords({ count: 5000, seed: 3 })

  it.scoped("speaks the gateway protocol: live-form v3 metadata, mappings, acks, records, replay completed", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data) })
      const r = yield* receive(gw.port, { start: 0n, snapshot: false }, 5000, (x) =>
        system(x).filter((m) => m.code === SystemCode.REPLAY_COMPLETED).length === 2)
      assert.strictEqual(r.metadata.length, 1)
      const m = r.metadata[0]!
      assert.deepStrictEqual(
        [m.version, m.dataset, m.schema, m.stype_in, m.stype_out, m.symbols.length, m.mappings.length],
        [3, "GLBX.MDP3", null, null, 0, 0, 0]
      )
      const mappings = r.others.filter((o): o is SymbolMappingMsg => o._tag === "symbolMapping")
      assert.isAbove(mappings.length, 0)
      assert.strictEqual(mappings[0]!.stype_in_symbol, "NQ.OPT")
      const acks = system(r).filter((s) => s.code === SystemCode.SUBSCRIPTION_ACK).map((s) => s.msg)
      assert.deepStrictEqual(acks, [
        "Subscription request 1 for mbo data succeeded",
        "Subscription request 2 for definition data succeeded"
      ])
      assert.deepStrictEqual(r.seq, range(0, 5000))
      const log = gw.connections()[0]!
      assert.isTrue(log.authenticated)
      assert.strictEqual(log.auth?.dataset, "GLBX.MDP3")
      assert.deepStrictEqual(log.subscriptions.map((s) => [s.schema, s.stypeIn, s.symbols.join(), s.start]), [
        ["mbo", "parent", "NQ.OPT", 0n],
        ["definition", "parent", "NQ.OPT", 0n]
      ])
    }))

  it.scoped("replays from start on ts_event, inclusive", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data) })
      const all = yield* receive(gw.port, { start: 0n, snapshot: false }, 5000)
      const start = all.ts[2500]!
      const first = all.ts.indexOf(start)
      const r = yield* receive(gw.port, { start, snapshot: false }, 5000 - first)
      assert.strictEqual(r.seq[0], first)
      assert.deepStrictEqual(r.seq, range(first, 5000))
    }))

  it.scoped("rejects a wrong key and closes", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({ apiKey: "db-anotherkeyanotherkeyanother00", data: FakeGateway.records(data) })
      const exit = yield* Effect.exit(receive(gw.port, { start: undefined, snapshot: true }, 1))
      const e = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error as GatewayError : undefined
      assert.strictEqual(e?.reason, "Auth")
      assert.strictEqual(gw.connections()[0]!.fault, "auth rejected")
    }))

  it.scoped("sends heartbeats only when idle for the heartbeat interval", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(data.subarray(0, 56 * 10)) })
      const fiber = yield* Effect.fork(receive(gw.port, { start: undefined, snapshot: true }, 10, (x) =>
        system(x).some((s) => s.isHeartbeat), { heartbeat: Duration.seconds(10) }))
      // Real I/O first (handshake and records), then idle time on the TestClock.
      yield* until(() => gw.connections()[0]?.recordsSent === 10)
      assert.strictEqual(gw.connections()[0]?.heartbeatsSent ?? 0, 0)
      yield* TestClock.adjust(Duration.seconds(10))
      const r = yield* Fiber.join(fiber)
      assert.strictEqual(gw.connections()[0]!.auth?.heartbeatIntervalS, 10)
      assert.isAtLeast(system(r).filter((s) => s.isHeartbeat).length, 1)
    }))

  it.scoped("drops, closes and corrupts on cue, and fragments writes to single bytes", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        faults: [
          { dropAfterRecords: 100, fragmentBytes: 1, fragmentRecords: 20 },
          { closeAfterRecords: 50 },
          { corruptAfterRecords: 10 }
        ]
      })
      const dropped = yield* Effect.exit(receive(gw.port, { start: 0n, snapshot: false }, 5000))
      assert.isTrue(Exit.isFailure(dropped))
      assert.strictEqual(gw.connections()[0]!.recordsSent, 100)
      const closed = yield* Effect.exit(receive(gw.port, { start: 0n, snapshot: false }, 5000))
      const c = Exit.isFailure(closed) && closed.cause._tag === "Fail" ? closed.cause.error as GatewayError : undefined
      assert.strictEqual(c?.reason, "Closed")
      const corrupt = yield* Effect.exit(receive(gw.port, { start: 0n, snapshot: false }, 5000))
      const d = Exit.isFailure(corrupt) && corrupt.cause._tag === "Fail" ? corrupt.cause.error : undefined
      assert.strictEqual((d as { _tag?: string } | undefined)?._tag, "DbnError")
      assert.deepStrictEqual(gw.connections().map((l) => l.fault), ["dropped", "closed", "corrupted"])
    }))

  it.scoped("refuses the first connections, and refuses a replay with an ErrorMsg", () =>
    Effect.gen(function*() {
      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.records(data),
        refuseFirst: 1,
        faults: [undefined, { refuseReplay: true }]
      })
      const refused = yield* Effect.exit(receive(gw.port, { start: undefined, snapshot: true }, 1))
      assert.isTrue(Exit.isFailure(refused))
      const r = yield* Effect.exit(receive(gw.port, { start: 5n, snapshot: false }, 1))
      assert.isTrue(Exit.isFailure(r))
      assert.deepStrictEqual(gw.connections().map((l) => l.fault), ["refused", "replay refused"])
      const ok = yield* receive(gw.port, { start: undefined, snapshot: true }, 5000)
      assert.strictEqual(ok.seq.length, 5000)
    }))

  it.scoped("paces records by ts_event when given a speed, on the Clock", () =>
    Effect.gen(function*() {
      // 40 records with distinct ts_event: each waits for its event time on the (test) clock.
      const paced = LiveData.mboRecords({ count: 40, seed: 4, maxRun: 1 })
      const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.records(paced), speed: 1 })
      const fiber = yield* Effect.fork(receive(gw.port, { start: undefined, snapshot: true }, 40))
      yield* until(() => (gw.connections()[0]?.recordsSent ?? 0) >= 1)
      assert.isBelow(gw.connections()[0]!.recordsSent, 40, "the rest waits for event time to pass")
      yield* TestClock.adjust(Duration.seconds(60))
      const r = yield* Fiber.join(fiber)
      assert.deepStrictEqual(r.seq, range(0, 40))
    }))

  it.scoped.skipIf(!fixturesPresent)("serves a DBN v3 file, zstd or plain, with its symbol mappings", () =>
    Effect.gen(function*() {
      for (const name of ["dbn/test_data.mbo.v3.dbn", "dbn/test_data.mbo.v3.dbn.zst"]) {
        const gw = yield* FakeGateway.serve({ apiKey: KEY, data: FakeGateway.file(fixture(name)) })
        const r = yield* receive(gw.port, { start: undefined, snapshot: true }, 2)
        assert.deepStrictEqual(r.seq, [1170352, 1170353])
        const mapping = r.others.find((o): o is SymbolMappingMsg => o._tag === "symbolMapping")
        assert.strictEqual(mapping?.stype_out_symbol, "ESH1")
        assert.strictEqual(mapping?.hd.instrument_id, 5482)
        yield* gw.close
      }
    }))
})

/**
 * MBO records that move real books (LiveData's never touch a resting order): Adds, partial and full Cancels,
 * Modifies that keep or lose their place, Trades and Fills that change nothing, and Clears, on instruments
 * 2000–2002, over few price levels so queues are long. Instrument 2003 only gets an Add and a Clear, first.
 * sequence = record index.
 */
const bookActivity = (count: number, seed: number): Uint8Array => {
  let s = seed >>> 0
  const pick = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return Math.floor((s / 4294967296) * n)
  }
  const resting = new Map<number, Array<{ id: bigint; side: string; price: bigint; size: number }>>()
  const w = new DbnWriter()
  let ts = 1_700_000_000_000_000_000n
  let nextId = 1n
  const mbo = (i: number, instrument: number, action: string, side: string, id: bigint, price: bigint, size: number) =>
    w.mbo({
      _tag: "mbo",
      hd: { length: 56, rtype: 0xa0, publisher_id: 1, instrument_id: instrument, ts_event: ts },
      order_id: id,
      price,
      size,
      flags: 0x80,
      channel_id: 0,
      action,
      side,
      ts_recv: ts + 1000n,
      ts_in_delta: 500,
      sequence: i
    })
  mbo(0, 2003, "A", "B", nextId++, 100n * 250_000_000n, 5)
  mbo(1, 2003, "R", "N", 0n, UNDEF_PRICE, 0)
  for (let i = 2; i < count; i++) {
    if (pick(4) === 0) ts += BigInt(1 + pick(1_000_000))
    const instrument = 2000 + pick(3)
    const orders = resting.get(instrument) ?? []
    resting.set(instrument, orders)
    const price = BigInt(100 + pick(6)) * 250_000_000n
    const roll = pick(1000)
    const k = pick(orders.length)
    const o = orders[k]
    if (roll < 400 || o === undefined) {
      const order = { id: nextId++, side: pick(2) === 0 ? "B" : "A", price, size: 1 + pick(20) }
      orders.push(order)
      mbo(i, instrument, "A", order.side, order.id, order.price, order.size)
    } else if (roll < 550) {
      const size = pick(2) === 0 ? o.size : 1 + pick(o.size)
      o.size -= size
      if (o.size === 0) orders.splice(k, 1)
      mbo(i, instrument, "C", o.side, o.id, o.price, size)
    } else if (roll < 650) {
      o.price = price
      mbo(i, instrument, "M", o.side, o.id, o.price, o.size)
    } else if (roll < 800) {
      // Larger (to the back of the queue) or not larger (keeps its place).
      o.size = pick(2) === 0 ? o.size + 1 + pick(5) : 1 + pick(o.size)
      mbo(i, instrument, "M", o.side, o.id, o.price, o.size)
    } else if (roll < 880) {
      mbo(i, instrument, "T", pick(2) === 0 ? "B" : "A", 0n, o.price, 1)
    } else if (roll < 998) {
      mbo(i, instrument, "F", o.side, o.id, o.price, 1)
    } else {
      orders.length = 0
      mbo(i, instrument, "R", "N", 0n, UNDEF_PRICE, 0)
    }
  }
  return w.toBytes()
}

/** Opens a live session and decodes until `served` rows besides snapshot rows arrived: every row, and their books. */
const receiveBooks = (port: number, request: Session.SessionRequest, served: number) =>
  Effect.gen(function*() {
    const session = yield* Session.open(settings(port), request)
    const rows: Array<MboMsg> = []
    const books = new Books()
    let live = 0
    yield* Decode.decodeStream(session.bytes).pipe(
      Stream.takeUntil((c) => {
        for (let i = 0; i < c.mbo.length; i++) {
          const row = mboAt(c.mbo, i)
          rows.push(row)
          if ((row.flags & 0x20) === 0) live++
        }
        books.apply(c.mbo)
        return live >= served
      }),
      Stream.runDrain
    )
    return { rows, books }
  }).pipe(
    Effect.scoped,
    Effect.provide(LiveStatus.layer),
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))
  )

describe("FakeGateway snapshots", () => {
  const data = bookActivity(4000, 11)
  const joinsAt = 2500
  /** A gateway whose first connection (a replay) stops after `joinsAt` records: a later live one joins there. */
  const joinedLater = Effect.gen(function*() {
    const gw = yield* FakeGateway.serve({
      apiKey: KEY,
      data: FakeGateway.records(data),
      faults: [{ closeAfterRecords: joinsAt }]
    })
    yield* Effect.exit(receive(gw.port, { start: 0n, snapshot: false }, 4000))
    assert.strictEqual(gw.liveHead(), joinsAt)
    return gw
  })

  it.scoped("opens a snapshot=1 connection with each book as it stands: a Clear and its orders, 40, the last 168", () =>
    Effect.gen(function*() {
      const gw = yield* joinedLater
      const { books, rows } = yield* receiveBooks(gw.port, { start: undefined, snapshot: true }, 4000 - joinsAt)
      const log = gw.connections()[1]!
      assert.deepStrictEqual(log.snapshot?.at, joinsAt)
      const count = log.snapshot!.records
      const snapshot = rows.slice(0, count)
      assert.isTrue(snapshot.every((r) => r.flags === 40 || r.flags === 168))
      assert.deepStrictEqual(rows.slice(count).map((r) => r.sequence), range(joinsAt, 4000))
      assert.isTrue(rows.slice(count).every((r) => (r.flags & 0x20) === 0))

      // One group per instrument, ascending: a Clear at the snapshot time, then Adds; only the last one has F_LAST.
      const now = snapshot[0]!.ts_recv
      const batch = servedBatch(data)
      const lastUpdate = new Map<bigint, MboMsg>()
      for (let i = 0; i < joinsAt; i++) {
        const r = mboAt(batch, i)
        if ("ACM".includes(r.action)) lastUpdate.set(r.order_id, r)
      }
      const groups: Array<Array<MboMsg>> = []
      for (const r of snapshot) {
        if (r.action === "R") groups.push([])
        groups[groups.length - 1]!.push(r)
      }
      assert.deepStrictEqual(groups.map((g) => g[0]!.hd.instrument_id), [2000, 2001, 2002, 2003])
      for (const [clear, ...adds] of groups) {
        const g = [clear!, ...adds]
        assert.deepStrictEqual(
          [clear!.action, clear!.side, clear!.order_id, clear!.price, clear!.size, clear!.hd.ts_event],
          ["R", "N", 0n, UNDEF_PRICE, 0, now]
        )
        assert.isTrue(adds.every((a) => a.action === "A" && a.hd.instrument_id === clear!.hd.instrument_id))
        assert.deepStrictEqual(g.map((r) => r.flags), [...g.slice(1).map(() => 40), 168])
        assert.isTrue(g.every((r) => r.ts_recv === now))
        // An Add carries the ts_event and sequence of its order's last update.
        const updates = adds.map((a) => lastUpdate.get(a.order_id))
        assert.deepStrictEqual(
          adds.map((a) => [a.sequence, a.hd.ts_event]),
          updates.map((u) => [u?.sequence, u?.hd.ts_event])
        )
      }
      assert.strictEqual(groups[3]!.length, 1, "instrument 2003 was cleared: its snapshot is a lone Clear")
      assert.isAbove(groups.reduce((n, g) => n + g.length - 1, 0), 50)

      // The snapshot rebuilds the books the first records built, queues included; the live records then carry on.
      const rebuilt = new Books()
      for (const r of snapshot) rebuilt.apply(servedBatch(new DbnWriter().mbo(r).toBytes()))
      assert.deepStrictEqual(bookState(rebuilt), bookState(booksOf(batch, joinsAt)))
      assert.deepStrictEqual(bookState(books), bookState(booksOf(batch, 4000)))
    }))

  it.scoped("sends no snapshot to a connection that joins live without snapshot=1", () =>
    Effect.gen(function*() {
      const gw = yield* joinedLater
      const { rows } = yield* receiveBooks(gw.port, { start: undefined, snapshot: false }, 4000 - joinsAt)
      assert.deepStrictEqual(rows.map((r) => r.sequence), range(joinsAt, 4000))
      assert.isTrue(rows.every((r) => (r.flags & 0x20) === 0))
      assert.isUndefined(gw.connections()[1]!.snapshot)
    }))
})
