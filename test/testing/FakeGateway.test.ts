import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Logger, Redacted, Stream, TestClock } from "effect"
import type { DecodedChunk } from "../../src/dbn/Batch.js"
import { SystemCode } from "../../src/dbn/Constants.js"
import type { DbnRecord, SymbolMappingMsg, SystemMsg } from "../../src/dbn/Records.js"
import type { GatewayError } from "../../src/live/GatewayError.js"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import * as LiveStatus from "../../src/live/LiveStatus.js"
import * as Session from "../../src/live/Session.js"
import * as Decode from "../../src/source/Decode.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"
import * as LiveData from "../../src/testing/LiveData.js"
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
