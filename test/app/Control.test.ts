import { assert, describe, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Context, Deferred, Effect, Fiber, Layer, Logger, Option, Redacted, Stream, SubscriptionRef, TestClock } from "effect"
import * as Control from "../../src/app/Control.js"
import { formatStatus, StreamStatus } from "../../src/app/Status.js"
import type { WindowSignal } from "../../src/flow/Signals.js"
import * as MarketHours from "../../src/gate/MarketHours.js"
import * as LiveStatus from "../../src/live/LiveStatus.js"
import { chunkOf } from "../source/Support.js"
import { signal as reportedSignal } from "../support/Dashboard.js"

const TOKEN = "s3cret-control-token-0123456789"

const signal = (i: number): WindowSignal =>
  reportedSignal({
    windowStart: Date.parse("2026-03-02T14:00:00Z") + 300_000 * i,
    expiration: "2026-06-19",
    strike: 21_500,
    day: "2026-03-02"
  })

/** Every log line written while the test runs. */
const captureLogs = () => {
  const lines: Array<string> = []
  const layer = Logger.replace(Logger.defaultLogger, Logger.map(Logger.logfmtLogger, (line) => void lines.push(line)))
  return { lines, layer }
}

const start = (token: string | undefined, statusLayer: Layer.Layer<StreamStatus> = StreamStatus.Default) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(statusLayer)
    const status = Context.get(context, StreamStatus)
    const address = yield* Control.make({
      ...Control.defaults,
      port: 0,
      token: token === undefined ? Option.none() : Option.some(Redacted.make(token))
    }).pipe(Effect.provideService(StreamStatus, status))
    return { status, base: `http://127.0.0.1:${address.port}` }
  })

interface Reply {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

const request = (url: string, init: RequestInit = {}) =>
  Effect.promise(async (): Promise<Reply> => {
    const res = await fetch(url, init)
    return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: await res.text() }
  })

const post = (url: string, authorization?: string) =>
  request(url, { method: "POST", ...(authorization === undefined ? {} : { headers: { authorization } }) })

/** A strict parser of the Prometheus text format 0.0.4: fails on anything it does not recognise. */
const parsePrometheus = (text: string) => {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
  const help = new Set<string>()
  const type = new Map<string, string>()
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  assert.isTrue(text.endsWith("\n"), "ends with a newline")
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const [name] = line.slice(7).split(" ", 1)
      assert.match(name!, NAME, line)
      assert.isFalse(help.has(name!), `one HELP for ${name}`)
      help.add(name!)
      continue
    }
    if (line.startsWith("# TYPE ")) {
      const [name, t, ...rest] = line.slice(7).split(" ")
      assert.match(name!, NAME, line)
      assert.include(["counter", "gauge", "histogram", "summary", "untyped"], t, line)
      assert.lengthOf(rest, 0, line)
      assert.isFalse(type.has(name!), `one TYPE for ${name}`)
      type.set(name!, t!)
      continue
    }
    assert.isFalse(line.startsWith("#") || line.trim() === "", `unexpected line: ${JSON.stringify(line)}`)
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    assert.isNotNull(m, `sample line: ${JSON.stringify(line)}`)
    const [, name, rawLabels, rawValue] = m!
    assert.isTrue(help.has(name!) && type.has(name!), `HELP and TYPE before the samples of ${name}`)
    const labels: Record<string, string> = {}
    if (rawLabels !== undefined) {
      for (const pair of rawLabels.slice(1, -1).split(",").filter((s) => s.length > 0)) {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"$/.exec(pair)
        assert.isNotNull(lm, `label: ${pair}`)
        labels[lm![1]!] = lm![2]!
      }
    }
    assert.match(rawValue!, /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|NaN|[+-]Inf)$/, `value of ${line}`)
    samples.push({ name: name!, labels, value: Number(rawValue) })
  }
  return { help, type, samples }
}

describe("Control", () => {
  it.scoped("answers /health with 200 ok", () =>
    Effect.gen(function*() {
      const { base } = yield* start(undefined)
      const r = yield* request(`${base}/health`)
      assert.strictEqual(r.status, 200)
      assert.strictEqual(r.body, "ok")
    }))

  it.scoped("answers the dashboard's reads empty, the underlying included, when the process has no database", () =>
    Effect.gen(function*() {
      const { base } = yield* start(undefined)
      const r = yield* request(`${base}/api/underlying?expiration=2026-06-19`)
      assert.strictEqual(r.status, 200)
      assert.deepStrictEqual(JSON.parse(r.body), { day: null, expiration: "2026-06-19", underlying: [] })
      const windows = yield* request(`${base}/api/windows`)
      assert.deepStrictEqual(JSON.parse(windows.body), { day: null, expiration: null, windows: [] })
    }))

  it.scoped("serves a JSON-safe status snapshot that counts chunks and signals", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(undefined)
      // Two pipeline runs (e.g. two sessions): the counters add up across them.
      yield* status.recordStats({ trades: 2, tradesByRule: { none: 0, aggressor: 1, quote: 1, tick: 0 } }, { windowsStored: 1 })
      yield* status.beginRun
      yield* status.recordStats({ trades: 5, tradesByRule: { none: 1, aggressor: 3, quote: 0, tick: 1 } }, {
        windowsStored: 2,
        openWindows: 2
      })
      yield* status.onSignals([signal(0), { ...signal(1), reported: false }])
      const r = yield* request(`${base}/status`)
      assert.strictEqual(r.status, 200)
      assert.include(r.contentType, "application/json")
      const s = JSON.parse(r.body)
      assert.strictEqual(s.source, "replay")
      assert.strictEqual(s.paused, false)
      assert.strictEqual(s.stopping, false)
      assert.isNull(s.live)
      assert.isNull(s.budget)
      assert.isNull(s.market)
      assert.deepStrictEqual(s.pipeline, {
        chunks: 0,
        records: 0,
        trades: 7,
        tradesByRule: { none: 1, aggressor: 4, quote: 1, tick: 1 },
        windowsStored: 3,
        signalsReported: 1,
        lastTsEvent: null,
        lastEventTime: null,
        recordsPerSecond: 0,
        openWindows: 2
      })
      const recent = JSON.parse((yield* request(`${base}/signals`)).body)
      assert.lengthOf(recent.signals, 1)
      assert.strictEqual(recent.signals[0].tier, "critical")
    }))

  it.scoped("/metrics is valid Prometheus text with HELP and TYPE before every metric", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(undefined)
      yield* status.recordStats({ trades: 7, tradesByRule: { none: 1, aggressor: 4, quote: 1, tick: 1 } }, {
        windowsStored: 3
      })
      const r = yield* request(`${base}/metrics`)
      assert.strictEqual(r.status, 200)
      assert.include(r.contentType, "text/plain")
      assert.include(r.contentType, "version=0.0.4")
      const m = parsePrometheus(r.body)
      const value = (name: string, labels: Record<string, string> = {}) =>
        m.samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value
      assert.strictEqual(m.type.get("ifd_records_total"), "counter")
      assert.strictEqual(value("ifd_records_total"), 0)
      assert.strictEqual(value("ifd_trades_total", { rule: "aggressor" }), 4)
      assert.strictEqual(value("ifd_trades_total", { rule: "none" }), 1)
      assert.strictEqual(value("ifd_windows_stored_total"), 3)
      assert.strictEqual(value("ifd_signals_total"), 0)
      assert.strictEqual(value("ifd_paused"), 0)
      for (const name of ["ifd_lag_seconds", "ifd_budget_spent_usd", "ifd_budget_remaining_usd", "ifd_connected", "ifd_market_open"]) {
        assert.strictEqual(m.type.get(name), "gauge", name)
      }
    }))

  it.scoped("control routes need the right bearer token, then pause, resume and stop", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(TOKEN)
      for (const path of ["/control/pause", "/control/resume", "/control/stop"]) {
        assert.strictEqual((yield* post(`${base}${path}`)).status, 401, `${path} without a token`)
        assert.strictEqual((yield* post(`${base}${path}`, "Bearer wrong-token")).status, 401, `${path} wrong token`)
        assert.strictEqual((yield* post(`${base}${path}`, `Bearer ${TOKEN}x`)).status, 401, `${path} longer token`)
        assert.strictEqual((yield* post(`${base}${path}`, TOKEN)).status, 401, `${path} without the scheme`)
      }
      assert.isFalse(yield* SubscriptionRef.get(status.paused))
      assert.isFalse(yield* Deferred.isDone(status.stop))

      const paused = yield* post(`${base}/control/pause`, `Bearer ${TOKEN}`)
      assert.strictEqual(paused.status, 200)
      assert.deepStrictEqual(JSON.parse(paused.body), { ok: true, paused: true, stopping: false })
      assert.isTrue(yield* SubscriptionRef.get(status.paused))
      assert.isTrue(JSON.parse((yield* request(`${base}/status`)).body).paused)

      // The pipeline's wait returns once resumed.
      const waiter = yield* Effect.fork(status.waitWhilePaused)
      assert.strictEqual((yield* post(`${base}/control/resume`, `Bearer ${TOKEN}`)).status, 200)
      yield* waiter.await
      assert.isFalse(yield* SubscriptionRef.get(status.paused))

      const stopped = yield* post(`${base}/control/stop`, `Bearer ${TOKEN}`)
      assert.strictEqual(stopped.status, 200)
      yield* Deferred.await(status.stop)
      assert.isTrue(JSON.parse((yield* request(`${base}/status`)).body).stopping)
    }))

  it.scoped("control routes are disabled with 403 when no token is configured", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(undefined)
      const r = yield* post(`${base}/control/pause`, "Bearer anything")
      assert.strictEqual(r.status, 403)
      assert.include(r.body, "IFD_CONTROL_TOKEN")
      assert.isFalse(yield* SubscriptionRef.get(status.paused))
    }))

  it.scopedLive("streams a signal published after the client connected as a server-sent event", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(undefined)
      const controller = new AbortController()
      yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
      const res = yield* Effect.promise(() =>
        fetch(`${base}/signals`, { headers: { accept: "text/event-stream" }, signal: controller.signal })
      )
      assert.strictEqual(res.status, 200)
      assert.include(res.headers.get("content-type") ?? "", "text/event-stream")
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let text = ""
      const readUntil = (needle: string) =>
        Effect.promise(async () => {
          while (!text.includes(needle)) {
            const { done, value } = await reader.read()
            if (done) break
            text += decoder.decode(value, { stream: true })
          }
          return text.includes(needle)
        }).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`no ${needle} in ${text}`) }))

      assert.isTrue(yield* readUntil(": connected"))
      yield* status.onSignals([signal(3)])
      assert.isTrue(yield* readUntil("event: signal\ndata: "))
      yield* readUntil("}\n\n")
      const data = text.slice(text.indexOf("data: ") + 6, text.indexOf("\n\n", text.indexOf("data: ")))
      const got = JSON.parse(data)
      assert.strictEqual(got.windowStart, signal(3).windowStart)
      assert.strictEqual(got.direction, "BUY")
    }))

  it.scoped("never shows the token in responses or logs", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const { base } = yield* start(TOKEN)
      const replies = [
        yield* request(`${base}/health`),
        yield* request(`${base}/status`),
        yield* request(`${base}/metrics`),
        yield* request(`${base}/signals`),
        yield* post(`${base}/control/pause`),
        yield* post(`${base}/control/pause`, "Bearer nope"),
        yield* post(`${base}/control/pause`, `Bearer ${TOKEN}`),
        yield* post(`${base}/control/resume`, `Bearer ${TOKEN}`),
        yield* post(`${base}/control/stop`, `Bearer ${TOKEN}`),
        yield* request(`${base}/nowhere`)
      ]
      assert.isAbove(logs.lines.length, 0, "logs were captured")
      assert.isTrue(logs.lines.some((l) => l.includes("Control interface listening")))
      for (const r of replies) assert.notInclude(r.body, TOKEN)
      for (const l of logs.lines) assert.notInclude(l, TOKEN)
      for (const l of logs.lines) assert.notInclude(l, "s3cret")
    }).pipe(Effect.provide(logs.layer))
  })

  it.scoped("fetchStatus reads a running instance's snapshot", () =>
    Effect.gen(function*() {
      const { base } = yield* start(undefined)
      const port = Number(new URL(base).port)
      const s = yield* Control.fetchStatus({ host: "127.0.0.1", port })
      assert.strictEqual(s.source, "replay")
      assert.strictEqual(s.pipeline.records, 0)
      assert.include(formatStatus(s), "source         replay (running")
      const missing = yield* Effect.flip(Control.fetchStatus({ host: "127.0.0.1", port: 1 }))
      assert.strictEqual(missing.reason, "Unreachable")
    }))

  it.scoped("around holds the pipeline while paused and counts chunks, records and the last ts_event", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(undefined)
      const ts = 1_772_460_000_123_456_789n
      const pulled: Array<number> = []
      const chunks = Stream.make(chunkOf([ts, ts + 1n]), chunkOf([ts + 2n, ts + 3n, ts + 4n]))
      yield* status.pause
      const fiber = yield* status.around(chunks).pipe(
        Stream.tap((c) => Effect.sync(() => pulled.push(c.mbo.length))),
        Stream.runCollect,
        Effect.fork
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(pulled, [], "nothing passes while paused")
      yield* status.resume
      const out = yield* Fiber.join(fiber)
      assert.strictEqual(Chunk.size(out), 2)
      const s = JSON.parse((yield* request(`${base}/status`)).body)
      assert.strictEqual(s.pipeline.chunks, 2)
      assert.strictEqual(s.pipeline.records, 5)
      assert.strictEqual(s.pipeline.lastTsEvent, (ts + 4n).toString())
      assert.strictEqual(s.pipeline.lastEventTime, new Date(Number((ts + 4n) / 1_000_000n)).toISOString())
      // The first chunk closed the 1 s sampling interval (2 records); the second opens the next one.
      assert.strictEqual(s.pipeline.recordsPerSecond, 2)
    }))

  it.scoped("a stop releases a paused pipeline", () =>
    Effect.gen(function*() {
      const { status } = yield* start(undefined)
      yield* status.pause
      const waiter = yield* Effect.fork(status.waitWhilePaused)
      yield* status.requestStop
      yield* Fiber.join(waiter)
      assert.isTrue(yield* Deferred.isDone(status.stop))
    }))

  it.scoped("reports the attached live session and market hours, bigints as decimal strings", () =>
    Effect.gen(function*() {
      const { base, status } = yield* start(
        TOKEN,
        StreamStatus.Default.pipe(Layer.provide(MarketHours.layer({ ignore: true })))
      )
      const live = yield* LiveStatus.make
      const last = 1_772_460_000_123_456_789n
      yield* SubscriptionRef.set(live.ref, {
        ...LiveStatus.initial,
        state: "Streaming",
        gateway: "127.0.0.1:13000",
        sessionId: "42",
        records: 10,
        reconnects: 1,
        cursor: { tsEvent: last, seen: 1 },
        lastTsEvent: last,
        lagMs: 1500
      })
      yield* status.attachLive.pipe(Effect.provideService(LiveStatus.LiveStatus, live))
      const body = (yield* request(`${base}/status`)).body
      assert.notInclude(body, TOKEN)
      const s = JSON.parse(body)
      assert.strictEqual(s.source, "live")
      assert.strictEqual(s.live.connected, true)
      assert.strictEqual(s.live.state, "Streaming")
      assert.strictEqual(s.live.lastTsEvent, last.toString())
      assert.deepStrictEqual(s.live.cursor, { tsEvent: last.toString(), seen: 1 })
      assert.strictEqual(s.market.open, true)
      const m = parsePrometheus((yield* request(`${base}/metrics`)).body)
      const value = (name: string) => m.samples.find((x) => x.name === name)?.value
      assert.strictEqual(value("ifd_connected"), 1)
      assert.strictEqual(value("ifd_lag_seconds"), 1.5)
      assert.strictEqual(value("ifd_reconnects_total"), 1)
      assert.strictEqual(value("ifd_market_open"), 1)
    }))

  it.scopedLive("shuts down while a server-sent-events client is still connected", () =>
    Effect.gen(function*() {
      const connected = yield* Effect.scoped(Effect.gen(function*() {
        const { base } = yield* start(undefined)
        const res = yield* Effect.promise(() => fetch(`${base}/signals`, { headers: { accept: "text/event-stream" } }))
        const reader = res.body!.getReader()
        const first = yield* Effect.promise(() => reader.read())
        return { reader, first: new TextDecoder().decode(first.value) }
      })).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the server did not close") }))
      assert.include(connected.first, ": connected")
      // The client sees the end of the stream (or a reset) rather than hanging.
      const end = yield* Effect.promise(() => connected.reader.read().then((r) => r.done, () => true))
      assert.isTrue(end)
    }))

  it.effect("reads IFD_CONTROL_* with loopback defaults, port 0 allowed, an empty token meaning none", () =>
    Effect.gen(function*() {
      const read = (env: ReadonlyArray<readonly [string, string]>) =>
        Effect.withConfigProvider(Control.config, ConfigProvider.fromMap(new Map(env)))
      const d = yield* read([])
      assert.strictEqual(d.host, "127.0.0.1")
      assert.strictEqual(d.port, 8787)
      assert.isTrue(Option.isNone(d.token))
      const set = yield* read([["IFD_CONTROL_PORT", "0"], ["IFD_CONTROL_TOKEN", TOKEN]])
      assert.strictEqual(set.port, 0)
      assert.isTrue(Option.isSome(set.token))
      assert.notInclude(String(set.token), TOKEN)
      assert.isTrue(Option.isNone((yield* read([["IFD_CONTROL_TOKEN", ""]])).token))
      assert.isTrue((yield* Effect.either(read([["IFD_CONTROL_PORT", "70000"]])))._tag === "Left")
    }))
})
