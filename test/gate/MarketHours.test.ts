import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, DateTime, Effect, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import { MarketHours } from "../../src/gate/MarketHours.js"
import * as MarketHoursModule from "../../src/gate/MarketHours.js"

const at = (iso: string) => DateTime.unsafeMake(iso)
const ms = (iso: string) => Date.parse(iso)
const iso = (o: Option.Option<DateTime.Utc>) => Option.map(o, DateTime.formatIso).pipe(Option.getOrUndefined)

const rth = MarketHoursModule.layer()
const globex = MarketHoursModule.layer({ session: "globex" })

/** Open at `t - 1 ms` and at `t`, as a pair. */
const around = (hours: MarketHours, t: string) => {
  const before = DateTime.unsafeMake(ms(t) - 1)
  return [hours.isOpen(before), hours.isOpen(at(t))] as const
}

describe("MarketHours RTH", () => {
  it.effect("opens and closes at 09:30 and 16:00 New York across the March DST change", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.deepStrictEqual(around(hours, "2025-03-07T21:00:00Z"), [true, false]) // Fri 16:00 EST
      assert.strictEqual(iso(hours.nextOpen(at("2025-03-07T21:00:00Z"))), "2025-03-10T13:30:00.000Z") // Mon 09:30 EDT
      assert.deepStrictEqual(around(hours, "2025-03-10T13:30:00Z"), [false, true])
      assert.strictEqual(iso(hours.nextClose(at("2025-03-10T13:30:00Z"))), "2025-03-10T20:00:00.000Z")
      assert.deepStrictEqual(around(hours, "2025-03-10T20:00:00Z"), [true, false])
      assert.isFalse(hours.isOpen(at("2025-03-08T15:00:00Z")), "Saturday")
    }).pipe(Effect.provide(rth)))

  it.effect("opens and closes at 09:30 and 16:00 New York across the November DST change", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.deepStrictEqual(around(hours, "2025-10-31T20:00:00Z"), [true, false]) // Fri 16:00 EDT
      assert.strictEqual(iso(hours.nextOpen(at("2025-10-31T20:00:00Z"))), "2025-11-03T14:30:00.000Z") // Mon 09:30 EST
      assert.deepStrictEqual(around(hours, "2025-11-03T14:30:00Z"), [false, true])
      assert.strictEqual(iso(hours.nextClose(at("2025-11-03T15:00:00Z"))), "2025-11-03T21:00:00.000Z")
    }).pipe(Effect.provide(rth)))

  it.effect("stays closed all day on a holiday and closes at 13:00 on the early close after it", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.isFalse(hours.isOpen(at("2025-11-27T16:00:00Z")), "Thanksgiving 11:00 EST")
      assert.strictEqual(iso(hours.nextOpen(at("2025-11-26T21:00:00Z"))), "2025-11-28T14:30:00.000Z")
      assert.strictEqual(iso(hours.nextClose(at("2025-11-26T21:00:00Z"))), "2025-11-28T18:00:00.000Z")
      assert.deepStrictEqual(around(hours, "2025-11-28T18:00:00Z"), [true, false])
      assert.strictEqual(iso(hours.nextOpen(at("2025-11-28T18:00:00Z"))), "2025-12-01T14:30:00.000Z")
      // Good Friday and the day of mourning are closed too.
      assert.strictEqual(iso(hours.nextOpen(at("2025-04-17T20:00:00Z"))), "2025-04-21T13:30:00.000Z")
      assert.strictEqual(iso(hours.nextOpen(at("2025-01-08T21:00:00Z"))), "2025-01-10T14:30:00.000Z")
    }).pipe(Effect.provide(rth)))

  it.effect("follows IFD_RTH_OPEN and IFD_RTH_CLOSE", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.deepStrictEqual(around(hours, "2025-06-02T13:15:00Z"), [false, true]) // 09:15 EDT
      assert.deepStrictEqual(around(hours, "2025-06-02T20:15:00Z"), [true, false]) // 16:15 EDT
    }).pipe(Effect.provide(MarketHoursModule.layer({ rthOpen: 9 * 60 + 15, rthClose: 16 * 60 + 15 }))))
})

describe("MarketHours Globex", () => {
  it.effect("opens Sunday 18:00 and takes the 17:00–18:00 break, across the March DST change", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.deepStrictEqual(around(hours, "2025-03-07T22:00:00Z"), [true, false]) // Fri 17:00 EST
      assert.strictEqual(iso(hours.nextOpen(at("2025-03-07T22:00:00Z"))), "2025-03-09T22:00:00.000Z") // Sun 18:00 EDT
      assert.deepStrictEqual(around(hours, "2025-03-10T21:00:00Z"), [true, false]) // Mon 17:00 EDT
      assert.deepStrictEqual(around(hours, "2025-03-10T22:00:00Z"), [false, true]) // Mon 18:00 EDT
      assert.strictEqual(Option.getOrThrow(hours.session(at("2025-03-10T22:00:00Z"))).tradeDate, "2025-03-11")
    }).pipe(Effect.provide(globex)))

  it.effect("opens Sunday 18:00 EST after the November DST change", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.strictEqual(iso(hours.nextOpen(at("2025-10-31T21:00:00Z"))), "2025-11-02T23:00:00.000Z")
      assert.isFalse(hours.isOpen(at("2025-11-02T22:30:00Z")))
    }).pipe(Effect.provide(globex)))

  it.effect("halts at 13:00 on a Monday holiday and skips Good Friday and Christmas", () =>
    Effect.gen(function*() {
      const hours = yield* MarketHours
      assert.deepStrictEqual(around(hours, "2026-01-19T18:00:00Z"), [true, false]) // MLK 13:00 EST
      assert.strictEqual(iso(hours.nextOpen(at("2026-01-19T18:00:00Z"))), "2026-01-19T23:00:00.000Z")
      assert.strictEqual(iso(hours.nextOpen(at("2025-04-17T21:00:00Z"))), "2025-04-20T22:00:00.000Z")
      assert.deepStrictEqual(around(hours, "2025-12-24T18:15:00Z"), [true, false]) // 12:15 CT
      assert.strictEqual(iso(hours.nextOpen(at("2025-12-24T18:15:00Z"))), "2025-12-25T23:00:00.000Z")
    }).pipe(Effect.provide(globex)))
})

describe("MarketHours scheduler", () => {
  it.effect("sleeps until the open, interrupts the run at the close and starts it again next trade date", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-03-08T12:00:00Z")) // Saturday before the spring DST change
      const hours = yield* MarketHours
      const starts = yield* Ref.make<Array<number>>([])
      const stops = yield* Ref.make<Array<number>>([])
      const now = DateTime.now.pipe(Effect.map(DateTime.toEpochMillis))
      const run = Effect.flatMap(now, (t) => Ref.update(starts, (a) => [...a, t])).pipe(
        Effect.zipRight(Effect.never),
        Effect.onInterrupt(() => Effect.flatMap(now, (t) => Ref.update(stops, (a) => [...a, t])))
      )
      const fiber = yield* Effect.fork(hours.gate(run))
      yield* TestClock.setTime(ms("2025-03-10T13:29:59.999Z"))
      assert.deepStrictEqual(yield* Ref.get(starts), [])
      yield* TestClock.setTime(ms("2025-03-10T13:30:00Z"))
      assert.deepStrictEqual(yield* Ref.get(starts), [ms("2025-03-10T13:30:00Z")])
      yield* TestClock.setTime(ms("2025-03-10T20:00:00Z"))
      assert.deepStrictEqual(yield* Ref.get(stops), [ms("2025-03-10T20:00:00Z")])
      yield* TestClock.setTime(ms("2025-03-11T13:30:00Z"))
      assert.deepStrictEqual((yield* Ref.get(starts)).length, 2)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual((yield* Ref.get(stops)).length, 2)
    }).pipe(Effect.provide(rth)))

  it.effect("after a run ends early it waits for the next session instead of restarting at once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-11-26T15:00:00Z")) // Wednesday 10:00 EST, before Thanksgiving
      const hours = yield* MarketHours
      const starts = yield* Ref.make<Array<number>>([])
      const run = Effect.flatMap(DateTime.now, (t) => Ref.update(starts, (a) => [...a, DateTime.toEpochMillis(t)]))
      const fiber = yield* Effect.fork(hours.gate(run))
      yield* TestClock.setTime(ms("2025-11-28T14:29:00Z"))
      assert.deepStrictEqual(yield* Ref.get(starts), [ms("2025-11-26T15:00:00Z")])
      yield* TestClock.setTime(ms("2025-11-28T14:30:00Z"))
      assert.deepStrictEqual(yield* Ref.get(starts), [ms("2025-11-26T15:00:00Z"), ms("2025-11-28T14:30:00Z")])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(rth)))

  it.effect("fails when the run fails", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-06-02T15:00:00Z"))
      const hours = yield* MarketHours
      const exit = yield* Effect.exit(hours.gate(Effect.fail("boom")))
      assert.isTrue(exit._tag === "Failure")
    }).pipe(Effect.provide(rth)))

  it.effect("ends a gated stream at the close and runs it again at the next open", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-11-01T12:00:00Z")) // Saturday before the fall DST change
      const hours = yield* MarketHours
      const events = yield* Ref.make<Array<string>>([])
      const mark = (what: string) =>
        Effect.flatMap(DateTime.now, (t) => Ref.update(events, (a) => [...a, `${what} ${DateTime.formatIso(t)}`]))
      const session = Stream.fromEffect(mark("start")).pipe(
        Stream.concat(Stream.never),
        Stream.ensuring(mark("end"))
      )
      const fiber = yield* Effect.fork(Stream.runDrain(hours.gateStream(session)))
      yield* TestClock.setTime(ms("2025-11-04T14:30:00Z"))
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* Ref.get(events), [
        "start 2025-11-03T14:30:00.000Z",
        "end 2025-11-03T21:00:00.000Z",
        "start 2025-11-04T14:30:00.000Z",
        "end 2025-11-04T14:30:00.000Z"
      ])
    }).pipe(Effect.provide(rth)))

  it.effect("runs at once and never stops the run when market hours are ignored", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(ms("2025-03-08T12:00:00Z"))
      const hours = yield* MarketHours
      const ran = yield* Ref.make(0)
      yield* hours.gate(Ref.update(ran, (n) => n + 1))
      assert.strictEqual(yield* Ref.get(ran), 1)
      assert.isTrue(hours.isOpen(at("2025-03-08T12:00:00Z")))
      assert.isTrue(Option.isNone(hours.nextClose(at("2025-03-08T12:00:00Z"))))
      const status = yield* hours.status
      assert.isTrue(status.open && status.ignoring)
    }).pipe(Effect.provide(MarketHoursModule.layer({ ignore: true }))))

  it.effect("reads its settings from IFD_ environment names", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(new Map([["IFD_SESSION", "globex"], ["IFD_IGNORE_MARKET_HOURS", "true"]]))
      const hours = yield* MarketHours.pipe(
        Effect.provide(MarketHours.Default.pipe(Layer.provide(Layer.setConfigProvider(provider))))
      )
      assert.strictEqual(hours.settings.session, "globex")
      assert.isTrue(hours.settings.ignore)
      const bad = ConfigProvider.fromMap(new Map([["IFD_RTH_OPEN", "16:30"]]))
      const exit = yield* Effect.exit(
        MarketHours.pipe(Effect.provide(MarketHours.Default.pipe(Layer.provide(Layer.setConfigProvider(bad)))))
      )
      assert.isTrue(exit._tag === "Failure")
    }))
})
