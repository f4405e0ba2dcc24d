import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import {
  Cause,
  Chunk,
  Clock,
  ConfigProvider,
  Duration,
  Effect,
  Exit,
  Layer,
  Option,
  Redacted,
  Stream,
  TestClock
} from "effect"
import { LedgerRepo } from "../../src/gate/LedgerRepo.js"
import * as HistoricalModule from "../../src/historical/Historical.js"
import { Historical, type HistoricalError } from "../../src/historical/Historical.js"
import * as Decode from "../../src/source/Decode.js"
import * as FakeHistorical from "../../src/testing/FakeHistorical.js"
import { fixturesPresent, readFixture } from "../support/Fixtures.js"
import { budgetLayer } from "../gate/support.js"

const KEY = "db-TestKey0123456789abcdefghijkl"
const KEY_B64 = Buffer.from(`${KEY}:`).toString("base64")

const query: HistoricalModule.Query = {
  dataset: "GLBX.MDP3",
  schema: "mbo",
  symbols: ["NQ.OPT"],
  stypeIn: "parent",
  start: "2025-06-02T13:30:00Z",
  end: 1_748_894_400_000_000_000n
}

/** Historical (and Budget, LedgerRepo) talking to `fake` over a real loopback connection. */
const client = (fake: FakeHistorical.FakeHistorical, overrides: Partial<HistoricalModule.HistoricalSettings> = {}) =>
  HistoricalModule.layer({
    apiKey: Redacted.make(KEY),
    baseUrl: fake.url,
    // Far beyond the retry delays, so the helper below can tell a backoff sleep from a timeout.
    timeout: Duration.hours(1),
    ...overrides
  }).pipe(Layer.provide(NodeHttpClient.layerUndici), Layer.provideMerge(budgetLayer()))

// Lets the event loop deliver socket events while the test fiber waits; not a sleep.
const ioTurn = Effect.async<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

/**
 * Runs `effect` on a fiber and, while real I/O goes on, moves the TestClock to each retry sleep as it appears;
 * returns the exit and the delays it slept.
 */
const driven = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    const delays: Array<number> = []
    for (let turn = 0; turn < 200_000; turn++) {
      const exit = fiber.unsafePoll()
      if (exit !== null) return { exit, delays }
      yield* ioTurn
      const now = yield* Clock.currentTimeMillis
      const wake = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((t) => t - now < 10 * 60_000).sort()[0]
      if (wake !== undefined) {
        delays.push(wake - now)
        yield* TestClock.adjust(Duration.millis(wake - now))
      }
    }
    return yield* Effect.dieMessage("request did not finish")
  })

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

const assertNoKey = (error: HistoricalError, exit?: Exit.Exit<unknown, unknown>) => {
  const pretty = exit !== undefined && Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
  const texts = [error.message, String(error), JSON.stringify(error), pretty]
  for (const t of texts) {
    assert.notInclude(t, KEY)
    assert.notInclude(t, KEY_B64)
  }
}

const bytesOf = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => Buffer.concat(Chunk.toReadonlyArray(chunks))

describe("Historical metadata", () => {
  it.scoped("posts the query as a form with basic auth and reads bare JSON numbers", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.37, recordCount: 1234, billableSize: 56_789 })
      const { cost, count, size } = yield* Effect.gen(function*() {
        const h = yield* Historical
        return {
          cost: yield* h.getCost(query),
          count: yield* h.getRecordCount(query),
          size: yield* h.getBillableSize({ schema: "definition", start: "2025-06-02" })
        }
      }).pipe(Effect.provide(client(fake)))
      assert.strictEqual(cost, 0.37)
      assert.strictEqual(count, 1234)
      assert.strictEqual(size, 56_789)
      const reqs = fake.requests()
      assert.deepStrictEqual(reqs.map((r) => [r.endpoint, r.method, r.authorized]), [
        ["metadata.get_cost", "POST", true],
        ["metadata.get_record_count", "POST", true],
        ["metadata.get_billable_size", "POST", true]
      ])
      assert.deepStrictEqual(reqs[0]!.form, {
        dataset: "GLBX.MDP3",
        start: "2025-06-02T13:30:00Z",
        symbols: "NQ.OPT",
        schema: "mbo",
        stype_in: "parent",
        stype_out: "instrument_id",
        end: "1748894400000000000"
      })
      assert.deepStrictEqual(reqs[2]!.form.symbols, "ALL_SYMBOLS")
      assert.deepStrictEqual(reqs[2]!.form.stype_in, "raw_symbol")
    }))

  it.scoped("fails with Decode when a reply is not a number", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({
        apiKey: KEY,
        faults: [{ status: 200, body: "<html>maintenance</html>" }]
      })
      const error = yield* Effect.flip(Effect.flatMap(Historical, (h) => h.getRecordCount(query))).pipe(
        Effect.provide(client(fake))
      )
      assert.strictEqual(error.reason, "Decode")
      assert.include(error.message, "metadata.get_record_count: Decode")
    }))

  it.scoped("rejects more than 2,000 symbols before sending anything", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({ apiKey: KEY })
      const symbols = Array.from({ length: 2_001 }, (_, i) => `S${i}`)
      const error = yield* Effect.flip(Effect.flatMap(Historical, (h) => h.getCost({ ...query, symbols }))).pipe(
        Effect.provide(client(fake))
      )
      assert.strictEqual(error.reason, "Input")
      assert.strictEqual(fake.requests().length, 0)
    }))
})

describe("Historical get_range", () => {
  it.scoped.skipIf(!fixturesPresent)("prices the range first, charges it and streams the zstd DBN body", () =>
    Effect.gen(function*() {
      const zst = readFixture("databento-python/GLBX.MDP3/test_data.mbo.dbn.zst")
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 1.25, data: zst, chunkBytes: 16 })
      const { body, records, spent, ledger } = yield* Effect.gen(function*() {
        const h = yield* Historical
        const body = bytesOf(yield* Stream.runCollect(h.getRange(query)))
        const decoded = yield* Stream.runCollect(Decode.decodeStream(h.getRange(query)))
        const records = Chunk.reduce(decoded, 0, (n, c) => n + c.mbo.length)
        const ledger = yield* Effect.flatMap(LedgerRepo, (l) => l.days("1969-01-01", "2099-12-31"))
        return { body, records, spent: ledger.reduce((s, d) => s + d.historicalUsd, 0), ledger }
      }).pipe(Effect.provide(client(fake)))
      assert.deepStrictEqual(body, zst)
      assert.strictEqual(records, 4)
      assert.closeTo(spent, 2.5, 1e-9)
      assert.strictEqual(ledger.length, 1)
      const reqs = fake.requests()
      assert.deepStrictEqual(reqs.map((r) => r.endpoint), [
        "metadata.get_cost",
        "timeseries.get_range",
        "metadata.get_cost",
        "timeseries.get_range"
      ])
      assert.strictEqual(reqs[1]!.form.encoding, "dbn")
      assert.strictEqual(reqs[1]!.form.compression, "zstd")
      assert.strictEqual(reqs[1]!.form.stype_in, "parent")
    }))

  it.scoped("delivers a large body in several pieces rather than buffering it", () =>
    Effect.gen(function*() {
      const data = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251)
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.01, data, chunkBytes: 64 * 1024 })
      const chunks = yield* Effect.flatMap(Historical, (h) => Stream.runCollect(h.getRange(query))).pipe(
        Effect.provide(client(fake))
      )
      assert.isAbove(Chunk.size(chunks), 1)
      assert.deepStrictEqual(bytesOf(chunks), data)
    }))

  it.scoped("refuses a range that would pass the day's budget without fetching it", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 9.5, data: new Uint8Array(10) })
      const { error, days } = yield* Effect.gen(function*() {
        const h = yield* Historical
        const error = yield* Effect.flip(Stream.runDrain(h.getRange(query)))
        const days = yield* Effect.flatMap(LedgerRepo, (l) => l.days("1969-01-01", "2099-12-31"))
        return { error, days }
      }).pipe(Effect.provide(client(fake)))
      assert.strictEqual(error.reason, "Budget")
      assert.include(error.message, "would cost $9.50")
      assert.include(error.message, "$8.00 limit")
      assert.deepStrictEqual(fake.requests().map((r) => r.endpoint), ["metadata.get_cost"])
      assert.strictEqual(days.length, 0)
    }))

  it.scoped("fails the stream with Transport when the body is cut off midway", () =>
    Effect.gen(function*() {
      const data = new Uint8Array(512 * 1024)
      const fake = yield* FakeHistorical.serve({ apiKey: KEY, cost: 0.01, data, cutAfterBytes: 100_000 })
      const error = yield* Effect.flatMap(Historical, (h) => Effect.flip(Stream.runDrain(h.getRange(query)))).pipe(
        Effect.provide(client(fake))
      )
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.endpoint, "timeseries.get_range")
    }))
})

describe("Historical retries", () => {
  it.scoped("retries 429 with growing delays, then succeeds", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({
        apiKey: KEY,
        cost: 0.5,
        faults: [{ endpoint: "metadata.get_cost", status: 429, detail: "Too many requests", times: 3 }]
      })
      const { exit, delays } = yield* driven(Effect.flatMap(Historical, (h) => h.getCost(query))).pipe(
        Effect.provide(client(fake))
      )
      assert.deepStrictEqual(exit, Exit.succeed(0.5))
      assert.strictEqual(delays.length, 3)
      delays.forEach((d, i) => {
        assert.isAtLeast(d, 1000 * 2 ** i * 0.8, `delay ${i}`)
        assert.isAtMost(d, 1000 * 2 ** i * 1.2, `delay ${i}`)
      })
      assert.strictEqual(fake.requests().length, 4)
    }))

  it.scoped("waits at least the server's Retry-After", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({
        apiKey: KEY,
        faults: [{ status: 429, retryAfterSeconds: 30 }]
      })
      const { exit, delays } = yield* driven(Effect.flatMap(Historical, (h) => h.getRecordCount(query))).pipe(
        Effect.provide(client(fake))
      )
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(delays, [30_000])
    }))

  it.scoped("retries 5xx on get_range, then streams and charges once", () =>
    Effect.gen(function*() {
      const data = new Uint8Array([1, 2, 3, 4, 5])
      const fake = yield* FakeHistorical.serve({
        apiKey: KEY,
        cost: 0.75,
        data,
        faults: [
          { endpoint: "timeseries.get_range", status: 500, detail: "Internal Server Error" },
          { endpoint: "timeseries.get_range", status: 503, detail: { case: "unavailable", message: "Try again" } }
        ]
      })
      const { exit, days } = yield* Effect.gen(function*() {
        const h = yield* Historical
        const { exit } = yield* driven(Stream.runCollect(h.getRange(query)))
        const days = yield* Effect.flatMap(LedgerRepo, (l) => l.days("1969-01-01", "2099-12-31"))
        return { exit, days }
      }).pipe(Effect.provide(client(fake)))
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) assert.deepStrictEqual(bytesOf(exit.value), data)
      assert.deepStrictEqual(fake.requests().map((r) => `${r.endpoint} ${r.status}`), [
        "metadata.get_cost 200",
        "timeseries.get_range 500",
        "timeseries.get_range 503",
        "timeseries.get_range 200"
      ])
      assert.closeTo(days[0]!.historicalUsd, 0.75, 1e-9)
    }))

  it.scoped("gives up after the configured retries and says how many attempts it made", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({
        apiKey: KEY,
        faults: [{ status: 503, detail: "Service Unavailable", times: 10 }]
      })
      const { exit } = yield* driven(Effect.flatMap(Historical, (h) => h.getCost(query))).pipe(
        Effect.provide(client(fake, { maxRetries: 2 }))
      )
      const error = failure(exit)
      assert.strictEqual(error.reason, "Server")
      assert.strictEqual(error.status, 503)
      assert.strictEqual(error.attempts, 3)
      assert.match(
        error.message,
        /^metadata\.get_cost: Server 503 after 3 attempts: Service Unavailable \(request-id fake-\d+\)$/
      )
      assert.strictEqual(fake.requests().length, 3)
    }))

  it.scoped("does not retry a 401, surfaces the API's message and never shows the key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({ apiKey: "db-SomeOtherKey456789abcdefghijkl" })
      const range = Effect.flatMap(Historical, (h) => Stream.runDrain(h.getRange(query)))
      const { exit, delays } = yield* driven(range).pipe(Effect.provide(client(fake)))
      const error = failure(exit)
      assert.strictEqual(error.reason, "Client")
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.detail, "Authentication failed: the API key is not valid.")
      assert.isDefined(error.requestId)
      assert.deepStrictEqual(delays, [])
      assert.strictEqual(fake.requests().length, 1)
      assert.isFalse(fake.requests()[0]!.authorized)
      assertNoKey(error, exit)
    }))

  it.scoped("does not retry a 422 and surfaces a plain detail, even one that echoes the key", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({
        apiKey: KEY,
        faults: [{ status: 422, detail: `Invalid value for 'start' (key ${KEY} / ${KEY_B64})` }]
      })
      const { exit, delays } = yield* driven(Effect.flatMap(Historical, (h) => h.getCost(query))).pipe(
        Effect.provide(client(fake))
      )
      const error = failure(exit)
      assert.strictEqual(error.reason, "Client")
      assert.strictEqual(error.status, 422)
      assert.include(error.detail, "Invalid value for 'start'")
      assert.deepStrictEqual(delays, [])
      assertNoKey(error, exit)
    }))

  it.scoped("retries an unreachable server as Transport and keeps the key out of the error", () =>
    Effect.gen(function*() {
      const fake = yield* FakeHistorical.serve({ apiKey: KEY })
      const { exit, delays } = yield* driven(Effect.flatMap(Historical, (h) => h.getCost(query))).pipe(
        Effect.provide(client({ ...fake, url: "http://127.0.0.1:1" }, { maxRetries: 1 }))
      )
      const error = failure(exit)
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.attempts, 2)
      assert.strictEqual(delays.length, 1)
      assertNoKey(error, exit)
    }))
})

describe("Historical config", () => {
  it.effect("reads DATABENTO_API_KEY and IFD_HISTORICAL_URL, keeping the key redacted", () =>
    Effect.gen(function*() {
      const read = (entries: ReadonlyArray<readonly [string, string]>) =>
        Effect.withConfigProvider(HistoricalModule.config, ConfigProvider.fromMap(new Map(entries)))
      const s = yield* read([["DATABENTO_API_KEY", KEY], ["IFD_HISTORICAL_URL", "http://127.0.0.1:8080/"]])
      assert.strictEqual(s.baseUrl, "http://127.0.0.1:8080")
      assert.strictEqual(s.dataset, "GLBX.MDP3")
      assert.strictEqual(Redacted.value(s.apiKey), KEY)
      assert.notInclude(String(s.apiKey), KEY)
      const d = yield* read([["DATABENTO_API_KEY", KEY]])
      assert.strictEqual(d.baseUrl, "https://hist.databento.com")
      const missing = yield* Effect.exit(read([]))
      assert.isTrue(Exit.isFailure(missing))
      if (Exit.isFailure(missing)) assert.include(Cause.pretty(missing.cause), "DATABENTO_API_KEY is not set")
    }))
})
