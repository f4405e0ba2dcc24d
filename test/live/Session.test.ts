import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Exit, Fiber, Logger, Redacted, Schedule, Stream, SubscriptionRef, TestClock } from "effect"
import * as Cram from "../../src/live/Cram.js"
import * as Gateway from "../../src/live/Gateway.js"
import type { GatewayError } from "../../src/live/GatewayError.js"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import { LiveStatus } from "../../src/live/LiveStatus.js"
import * as LiveStatusModule from "../../src/live/LiveStatus.js"
import * as Session from "../../src/live/Session.js"
import { type Peer, scripted } from "./ScriptedServer.js"

const KEY = "db-unittestapikey1234567890FFFFF"
/** Logs are asserted where they matter (captured); elsewhere they would only clutter the output. */
const quiet = Logger.replace(Logger.defaultLogger, Logger.none)
const apiKey = Redacted.make(KEY)

const settings = (port: number, overrides: Partial<LiveConfig.LiveSettings> = {}): LiveConfig.LiveSettings => ({
  ...LiveConfig.defaults,
  apiKey,
  host: "127.0.0.1",
  port,
  ...overrides
})

const live = { start: undefined, snapshot: true }

/** Greeting and challenge (sent separately, as the official mock does), checks the CRAM reply. */
const greetAndAuth = async (peer: Peer, challenge = "abcd1234") => {
  await peer.write("lsg_version=0.7.2\n")
  await peer.write(`cram=${challenge}\n`)
  const auth = Gateway.parseAuthRequest(await peer.nextLine())
  return auth !== undefined && Cram.verify(challenge, apiKey, auth.auth) ? auth : undefined
}

const untilStartSession = async (peer: Peer) => {
  const subs: Array<string> = []
  for (let line = await peer.nextLine(); !Gateway.isStartSession(line); line = await peer.nextLine()) subs.push(line)
  return subs
}

const collect = (bytes: Stream.Stream<Uint8Array, GatewayError>, n: number) =>
  bytes.pipe(
    Stream.mapConcat((b) => Array.from(b)),
    Stream.take(n),
    Stream.runCollect,
    Effect.map(Chunk.toArray)
  )

describe("Session", () => {
  it.scoped("authenticates, subscribes to mbo and definition for NQ.OPT by parent, and streams what follows", () =>
    Effect.gen(function*() {
      let seen: { auth: Gateway.AuthRequest | undefined; subs: Array<string> } = { auth: undefined, subs: [] }
      const port = yield* scripted(async (peer) => {
        const auth = await greetAndAuth(peer)
        // The reply and the first DBN bytes in one write: they must not be lost to the line reader.
        await peer.write(new Uint8Array([...new TextEncoder().encode("success=1|session_id=42|\n"), 0x44, 0x42, 0x4e]))
        const subs = await untilStartSession(peer)
        seen = { auth, subs }
        await peer.write(new Uint8Array([0x03, 0x01, 0x02]))
      })
      const session = yield* Session.open(settings(port), live)
      assert.strictEqual(session.sessionId, "42")
      assert.strictEqual(session.lsgVersion, "0.7.2")
      assert.deepStrictEqual(yield* collect(session.bytes, 6), [0x44, 0x42, 0x4e, 0x03, 0x01, 0x02])
      assert.isDefined(seen.auth, "the CRAM reply verifies")
      assert.strictEqual(seen.auth!.dataset, "GLBX.MDP3")
      assert.strictEqual(seen.auth!.encoding, "dbn")
      assert.strictEqual(seen.auth!.compression, "none")
      assert.strictEqual(seen.auth!.heartbeatIntervalS, 30)
      assert.deepStrictEqual(seen.subs, [
        "schema=mbo|stype_in=parent|symbols=NQ.OPT|snapshot=1|id=1|is_last=1",
        "schema=definition|stype_in=parent|symbols=NQ.OPT|snapshot=0|id=2|is_last=1"
      ])
      const status = yield* LiveStatus
      const s = yield* SubscriptionRef.get(status.ref)
      assert.strictEqual(s.state, "Streaming")
      assert.strictEqual(s.sessionId, "42")
      assert.strictEqual(s.connections, 1)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("asks for a replay with start= and no snapshot when resuming", () =>
    Effect.gen(function*() {
      let subs: Array<string> = []
      const port = yield* scripted(async (peer) => {
        await greetAndAuth(peer)
        await peer.write("success=1|session_id=1|\n")
        subs = await untilStartSession(peer)
        await peer.write(new Uint8Array([1]))
      })
      const session = yield* Session.open(settings(port), { start: 1700000000000000007n, snapshot: true })
      yield* collect(session.bytes, 1)
      assert.deepStrictEqual(subs, [
        "schema=mbo|stype_in=parent|symbols=NQ.OPT|start=1700000000000000007|snapshot=0|id=1|is_last=1",
        "schema=definition|stype_in=parent|symbols=NQ.OPT|start=1700000000000000007|snapshot=0|id=2|is_last=1"
      ])
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("reads control lines split into single bytes and merged into one write", () =>
    Effect.gen(function*() {
      const port = yield* scripted(async (peer) => {
        for (const b of new TextEncoder().encode("lsg_version=1\ncram=xyz")) await peer.write(new Uint8Array([b]))
        await peer.write("\n")
        const auth = Gateway.parseAuthRequest(await peer.nextLine())
        if (auth === undefined || !Cram.verify("xyz", apiKey, auth.auth)) return void peer.socket.destroy()
        await peer.write("success=1|session_id=7|\n")
        await untilStartSession(peer)
        await peer.write(new Uint8Array([9, 8]))
      })
      const session = yield* Session.open(settings(port), live)
      assert.deepStrictEqual(yield* collect(session.bytes, 2), [9, 8])

      const merged = yield* scripted(async (peer) => {
        await peer.write("lsg_version=1\ncram=xyz\n")
        const auth = Gateway.parseAuthRequest(await peer.nextLine())
        if (auth === undefined || !Cram.verify("xyz", apiKey, auth.auth)) return void peer.socket.destroy()
        await peer.write("success=1|session_id=8|\n")
        await untilStartSession(peer)
        await peer.write(new Uint8Array([7]))
      })
      const again = yield* Session.open(settings(merged), live)
      assert.strictEqual(again.sessionId, "8")
      assert.deepStrictEqual(yield* collect(again.bytes, 1), [7])
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("fails with Auth, without the key, when the gateway rejects it", () =>
    Effect.gen(function*() {
      const port = yield* scripted(async (peer) => {
        await greetAndAuth(peer)
        await peer.write(`success=0|error=Authentication failed for ${KEY}.\n`)
        peer.socket.end()
      })
      const exit = yield* Effect.exit(Session.open(settings(port), live))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const e = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(e?.reason, "Auth")
        assert.include(e!.message, "Authentication failed")
        assert.notInclude(e!.message, KEY)
        assert.notInclude(e!.message, KEY.slice(3))
      }
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("fails with Connect when nothing listens", () =>
    Effect.gen(function*() {
      const port = yield* scripted(async (peer) => void peer.socket.destroy())
      const exit = yield* Effect.exit(Session.open(settings(port), live))
      const e = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.oneOf(e?.reason, ["Connect", "Closed"])
      const refused = yield* Effect.exit(Session.open(settings(1), live))
      const r = Exit.isFailure(refused) && refused.cause._tag === "Fail" ? refused.cause.error : undefined
      assert.strictEqual(r?.reason, "Connect")
      assert.include(r!.message, "127.0.0.1:1")
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("fails with Protocol when the second line is not a challenge", () =>
    Effect.gen(function*() {
      const port = yield* scripted(async (peer) => {
        await peer.write("hello\nworld\n")
      })
      const exit = yield* Effect.exit(Session.open(settings(port), live))
      const e = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(e?.reason, "Protocol")
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("turns a clean close by the gateway into a Closed failure after the bytes before it", () =>
    Effect.gen(function*() {
      const port = yield* scripted(async (peer) => {
        await greetAndAuth(peer)
        await peer.write("success=1|session_id=1|\n")
        await untilStartSession(peer)
        await peer.write(new Uint8Array([5, 6]))
        peer.socket.end()
      })
      const session = yield* Session.open(settings(port), live)
      const received: Array<number> = []
      const exit = yield* session.bytes.pipe(
        Stream.runForEach((b) => Effect.sync(() => received.push(...b))),
        Effect.exit
      )
      assert.deepStrictEqual(received, [5, 6])
      const e = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(e?.reason, "Closed")
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.scoped("declares the connection dead after heartbeat interval + grace without a byte", () =>
    Effect.gen(function*() {
      const port = yield* scripted(async (peer) => {
        await greetAndAuth(peer)
        await peer.write("success=1|session_id=1|\n")
        await untilStartSession(peer)
        await peer.write(new Uint8Array([1]))
      })
      const session = yield* Session.open(settings(port), live)
      const fiber = yield* Effect.fork(Stream.runDrain(session.bytes))
      yield* TestClock.adjust(Duration.seconds(34))
      assert.isNull(yield* Fiber.poll(fiber).pipe(Effect.map((o) => o._tag === "Some" ? "done" : null)))
      yield* TestClock.adjust(Duration.seconds(2))
      const exit = yield* Fiber.await(fiber)
      const e = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(e?.reason, "HeartbeatTimeout")
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet)))

  it.live("pauses reading when the consumer falls behind and loses nothing", () =>
    Effect.gen(function*() {
      const total = 4 * 1024 * 1024
      const port = yield* scripted(async (peer) => {
        await greetAndAuth(peer)
        await peer.write("success=1|session_id=1|\n")
        await untilStartSession(peer)
        const block = new Uint8Array(64 * 1024)
        for (let sent = 0; sent < total; sent += block.length) {
          for (let i = 0; i < block.length; i++) block[i] = (sent + i) & 0xff
          await peer.write(block.slice())
        }
      })
      const limit = 256 * 1024
      const session = yield* Session.open(settings(port, { bufferBytes: limit }), live)
      // Nobody reads yet: the buffer fills to the limit and reading stops there.
      yield* Effect.repeat(
        Effect.sync(() => session.pauses()),
        { until: (p) => p > 0, schedule: Schedule.spaced("5 millis") }
      ).pipe(Effect.timeout("10 seconds"))
      yield* Effect.sleep("50 millis")
      assert.isAtMost(session.buffered(), limit + 256 * 1024, "bounded: at most the limit plus one read")
      let n = 0
      let m = 0
      let ok = true
      yield* session.bytes.pipe(
        Stream.takeUntil((b) => (m += b.length) >= total),
        Stream.runForEach((b) =>
          Effect.sync(() => {
            for (let i = 0; i < b.length; i++) if (b[i] !== ((n + i) & 0xff)) ok = false
            n += b.length
          })
        )
      )
      assert.strictEqual(n, total)
      assert.isTrue(ok, "every byte in order")
      assert.isAtLeast(session.pauses(), 1)
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet), Effect.scoped))

  it.live("reuses its read buffers only for bytes the consumer has finished with", () =>
    Effect.gen(function*() {
      // Several slabs' worth (4 MiB each), written in odd sizes; no byte repeats at any period a slab could have.
      const byteAt = (x: number) => Math.imul(x, 0x9e3779b1) >>> 24
      const total = 24 * 1024 * 1024
      const port = yield* scripted(async (peer) => {
        await greetAndAuth(peer)
        await peer.write("success=1|session_id=1|\n")
        await untilStartSession(peer)
        for (let sent = 0, k = 0; sent < total; k++) {
          const block = new Uint8Array(Math.min(total - sent, 50_000 + ((k * 7919) % 300_000)))
          for (let i = 0; i < block.length; i++) block[i] = byteAt(sent + i)
          sent += block.length
          await peer.write(block)
        }
      })
      const session = yield* Session.open(settings(port, { bufferBytes: 12 * 1024 * 1024 }), live)
      // Unread bytes spanning several slabs first, then a consumer that stalls now and then.
      yield* Effect.repeat(
        Effect.sync(() => session.buffered()),
        { until: (b) => b >= 10 * 1024 * 1024, schedule: Schedule.spaced("5 millis") }
      ).pipe(Effect.timeout("10 seconds"))
      let n = 0
      let pulls = 0
      let bad = -1
      yield* session.bytes.pipe(
        Stream.takeUntil((b) => (n += b.length) >= total),
        Stream.mapEffect((b) => (++pulls % 7 === 0 ? Effect.as(Effect.sleep("2 millis"), b) : Effect.succeed(b))),
        Stream.scan(0, (at, b) => {
          for (let i = 0; i < b.length && bad < 0; i++) if (b[i] !== byteAt(at + i)) bad = at + i
          return at + b.length
        }),
        Stream.runDrain
      )
      assert.strictEqual(n, total)
      assert.strictEqual(bad, -1, "every byte as sent")
    }).pipe(Effect.provide(LiveStatusModule.layer), Effect.provide(quiet), Effect.scoped), 30_000)
})
