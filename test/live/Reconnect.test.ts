import { assert, describe, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Option, Schedule, TestClock } from "effect"
import { GatewayError } from "../../src/live/GatewayError.js"
import * as Reconnect from "../../src/live/Reconnect.js"

const settings = { reconnectBase: Duration.millis(250), reconnectMaxDelay: Duration.seconds(30) }
const closed = new GatewayError({ reason: "Closed", detail: "gateway closed the connection" })

/** Runs one `driver.next` on the TestClock and returns how long it slept. */
const nextDelay = <A>(driver: Schedule.ScheduleDriver<A, GatewayError>, e: GatewayError) =>
  Effect.gen(function*() {
    const before = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(driver.next(e))
    yield* Effect.yieldNow()
    const sleeps = yield* TestClock.sleeps()
    const wake = Chunk.isEmpty(sleeps) ? before : Chunk.unsafeHead(sleeps)
    yield* TestClock.adjust(Duration.millis(wake - before))
    yield* Fiber.join(fiber)
    return Math.round((yield* Clock.currentTimeMillis) - before)
  })

describe("reconnect policy", () => {
  it.effect("waits growing jittered delays, capped at the maximum", () =>
    Effect.gen(function*() {
      const driver = yield* Schedule.driver(Reconnect.policy(settings))
      const delays: Array<number> = []
      for (let i = 0; i < 14; i++) delays.push(yield* nextDelay(driver, closed))
      for (let i = 0; i < delays.length; i++) {
        const nominal = 250 * 2 ** i
        const d = delays[i]!
        assert.isAtMost(d, 30_000, `delay ${i} is capped`)
        if (nominal * 0.8 < 30_000) assert.isAtLeast(d, Math.floor(nominal * 0.8), `delay ${i} grows`)
        if (nominal * 1.2 < 30_000) assert.isAtMost(d, Math.ceil(nominal * 1.2), `delay ${i} jitter`)
      }
      assert.deepStrictEqual(delays.slice(-4), [30_000, 30_000, 30_000, 30_000])
      assert.isBelow(delays[0]!, delays[3]!)
    }))

  it.effect("starts again from the base delay after a reset", () =>
    Effect.gen(function*() {
      const driver = yield* Schedule.driver(Reconnect.policy(settings))
      for (let i = 0; i < 8; i++) yield* nextDelay(driver, closed)
      yield* driver.reset
      const d = yield* nextDelay(driver, closed)
      assert.isAtMost(d, 300)
    }))

  it.effect("does not retry an auth failure or a rejected subscription", () =>
    Effect.gen(function*() {
      const driver = yield* Schedule.driver(Reconnect.policy(settings))
      const auth = yield* Effect.option(driver.next(new GatewayError({ reason: "Auth", detail: "bad key" })))
      assert.isTrue(Option.isNone(auth))
      const driver2 = yield* Schedule.driver(Reconnect.policy(settings))
      const sub = yield* Effect.option(driver2.next(new GatewayError({ reason: "Gateway", code: 4, detail: "x" })))
      assert.isTrue(Option.isNone(sub))
      const heartbeat = yield* Effect.option(nextDelay(driver2, new GatewayError({ reason: "HeartbeatTimeout" })))
      assert.isTrue(Option.isSome(heartbeat))
    }))

  it("keeps the cap after thousands of failures (no overflow to NaN or zero)", () => {
    const policy = Schedule.delays(Reconnect.policy(settings))
    const out = Effect.runSync(Schedule.run(policy, 0, Array.from({ length: 3000 }, () => closed)))
    const last = Chunk.toReadonlyArray(out).slice(-100).map(Duration.toMillis)
    assert.isTrue(last.every((d) => d === 30_000))
  })
})
