/**
 * One live gateway session over TCP: connect, greeting and CRAM challenge, auth, subscriptions, start_session,
 * then the raw DBN bytes through a bounded buffer (reading pauses when the consumer falls behind) with a
 * heartbeat watchdog. State machine: Connecting → Authenticating → Subscribed → Streaming.
 * shared/spec/databento.md §8.
 */
import * as Socket from "@effect/platform/Socket"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { Chunk, Clock, Duration, Effect, Exit, Mailbox, Stream, SubscriptionRef } from "effect"
import * as Net from "node:net"
import { concatBytes } from "../dbn/Bytes.js"
import * as Cram from "./Cram.js"
import * as Gateway from "./Gateway.js"
import { GatewayError } from "./GatewayError.js"
import type { LiveSettings } from "./LiveConfig.js"
import { LiveStatus, type Snapshot, type State } from "./LiveStatus.js"

export interface SessionRequest {
  /** Replay from this time (UNIX ns, inclusive on ts_event); undefined = live from now. */
  readonly start: bigint | undefined
  /** Ask for an MBO snapshot (only without `start`). */
  readonly snapshot: boolean
}

export interface Session {
  readonly sessionId: string
  readonly lsgVersion: string | undefined
  readonly request: SessionRequest
  /**
   * The DBN byte stream after the auth reply (bytes that arrived with the reply included): per pull, every socket
   * read waiting in the buffer. An array is valid until the next pull (its memory then takes later reads): a
   * consumer copies what it keeps, as the decoder does. It never ends successfully: a close, a socket error or a
   * heartbeat timeout fails it, after every byte received before.
   */
  readonly bytes: Stream.Stream<Uint8Array, GatewayError>
  /** Bytes received and not yet taken by the consumer. */
  readonly buffered: () => number
  /** Times reading was paused for back-pressure. */
  readonly pauses: () => number
}

/**
 * Every read waiting in the buffer as one array: the decoder then drains once for all of them, and the stages
 * after it run once per batch of what arrived rather than once per socket read (no wait: only bytes already here).
 */
const concat = (parts: Chunk.Chunk<Uint8Array>): Uint8Array => concatBytes(parts)

const SLAB_BYTES = 4 * 1024 * 1024
const MAX_READ = 1024 * 1024
const MIN_READ = 64 * 1024

/**
 * The socket's read buffers: consecutive views of large slabs, so a read goes to the decoder without a copy and
 * can take all the kernel holds. A view is never written again while the consumer may read it: a slab is refilled
 * only once every view lent from it has come back (`giveBack`: the consumer pulled again) and the reads moved on.
 */
class ReadSlabs {
  private slab: Uint8Array = new Uint8Array(SLAB_BYTES)
  private at = 0
  /** Slabs with views lent out, and how many. */
  private readonly lent = new Map<ArrayBufferLike, { readonly slab: Uint8Array; count: number }>()
  private readonly spare: Array<Uint8Array> = []

  /** Where the next read goes: at most `room` bytes (but at least `MIN_READ`, at most `MAX_READ`). */
  next(room: number): Uint8Array {
    if (SLAB_BYTES - this.at < MIN_READ) {
      const old = this.slab
      this.slab = this.spare.pop() ?? new Uint8Array(SLAB_BYTES)
      this.at = 0
      if (!this.lent.has(old.buffer)) this.retire(old)
    }
    const size = Math.min(MAX_READ, Math.max(MIN_READ, room))
    return this.slab.subarray(this.at, Math.min(SLAB_BYTES, this.at + size))
  }

  /** The `n` bytes just read into `buf` (the last `next()`). */
  take(buf: Uint8Array, n: number): Uint8Array {
    this.at += n
    return buf.subarray(0, n)
  }

  /** `view` (just read) goes to the consumer. */
  lend(view: Uint8Array): void {
    if (view.buffer !== this.slab.buffer) return
    const entry = this.lent.get(view.buffer)
    if (entry === undefined) this.lent.set(view.buffer, { slab: this.slab, count: 1 })
    else entry.count++
  }

  /** The consumer is done with `view`. */
  giveBack(view: Uint8Array): void {
    const entry = this.lent.get(view.buffer)
    if (entry === undefined || --entry.count > 0) return
    this.lent.delete(view.buffer)
    if (entry.slab !== this.slab) this.retire(entry.slab)
  }

  private retire(slab: Uint8Array): void {
    if (this.spare.length < 2) this.spare.push(slab)
  }
}

/** Lines the gateway sends before DBN: greeting, challenge, auth reply. */
const CONTROL_LINES = 3

const causeCode = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  if (cause instanceof Error && /timed out/i.test(cause.message)) return "ETIMEDOUT"
  return "unknown"
}

/** A socket failure in safe words: the error code and the address, never the driver's text. */
const fromSocketError = (e: Socket.SocketError, address: string, connected: boolean): GatewayError => {
  if (e.reason === "Open" || e.reason === "OpenTimeout") {
    return new GatewayError({ reason: "Connect", detail: `connecting to ${address} failed (${causeCode(e.cause)})` })
  }
  if (e.reason === "Close") {
    return new GatewayError({ reason: "Closed", detail: `connection to ${address} closed with an error` })
  }
  if (e.reason === "Write") {
    return new GatewayError({ reason: "Closed", detail: `writing to ${address} failed (${causeCode(e.cause)})` })
  }
  return new GatewayError({
    reason: connected ? "Closed" : "Connect",
    detail: `reading from ${address} failed (${causeCode(e.cause)})`
  })
}

const subscriptionLines = (settings: LiveSettings, request: SessionRequest): string =>
  settings.schemas.flatMap((schema, i) =>
    Gateway.formatSubscription({
      schema,
      stypeIn: settings.stypeIn,
      symbols: settings.symbols,
      start: request.start,
      snapshot: request.snapshot && request.start === undefined && schema === "mbo",
      id: i + 1
    })
  ).join("")

/**
 * Opens a session in the current scope (closing the scope closes the socket). Fails with `Auth` when the
 * gateway rejects the key, `Connect` when it cannot be reached or does not answer in time, `Protocol` when it
 * does not speak the protocol, `Closed` when it hangs up during the handshake.
 */
export const open = Effect.fn("Session.open")(function*(settings: LiveSettings, request: SessionRequest) {
  const status = yield* LiveStatus
  const clock = yield* Effect.clock
  const address = `${settings.host}:${settings.port}`
  const setState = (state: State, patch: Partial<Snapshot> = {}) =>
    SubscriptionRef.update(status.ref, (s) => ({ ...s, ...patch, state, updatedAt: clock.unsafeCurrentTimeMillis() }))

  const lines = yield* Mailbox.make<string, GatewayError>()
  const bytes = yield* Mailbox.make<Uint8Array, GatewayError>()
  const reader = new Gateway.LineReader()
  const reads = new ReadSlabs()
  let conn: Net.Socket | undefined
  let binary = false
  let linesSeen = 0
  let connected = false
  let buffered = 0
  let paused = false
  let pauses = 0
  let lastByteAt = clock.unsafeCurrentTimeMillis()

  const fail = (e: GatewayError): void => {
    lines.unsafeDone(Exit.fail(e))
    bytes.unsafeDone(Exit.fail(e))
  }

  const offerBytes = (chunk: Uint8Array): void => {
    if (chunk.length === 0 || !bytes.unsafeOffer(chunk)) return
    reads.lend(chunk)
    buffered += chunk.length
    if (!paused && buffered >= settings.bufferBytes && conn !== undefined) {
      // The consumer is behind: stop reading so TCP pushes back on the gateway instead of us dropping data.
      conn.pause()
      paused = true
      pauses++
    }
  }

  const onData = (chunk: Uint8Array): void => {
    lastByteAt = clock.unsafeCurrentTimeMillis()
    if (binary) return offerBytes(chunk)
    reader.push(chunk)
    let line: string | undefined
    while (!binary && (line = reader.next()) !== undefined) {
      lines.unsafeOffer(line)
      if (++linesSeen === CONTROL_LINES) {
        binary = true
        offerBytes(reader.rest())
      }
    }
    if (!binary && reader.overflowed) {
      fail(new GatewayError({ reason: "Protocol", detail: "control line too long: not a Databento gateway?" }))
    }
  }

  /** What the consumer took last: it is done with it when it pulls again. */
  let held: Chunk.Chunk<Uint8Array> = Chunk.empty()
  const taken = (chunk: Chunk.Chunk<Uint8Array>): void => {
    for (const b of held) reads.giveBack(b)
    held = chunk
    for (const b of chunk) buffered -= b.length
    if (paused && buffered < settings.bufferBytes / 2 && conn !== undefined) {
      paused = false
      // Silence while paused was ours: the heartbeat deadline starts again now.
      lastByteAt = clock.unsafeCurrentTimeMillis()
      conn.resume()
    }
  }

  const openNet = Effect.acquireRelease(
    Effect.async<Net.Socket, Socket.SocketError>((resume) => {
      // Reads land in our own buffers (no 'data' events): each read takes whatever the kernel holds, up to
      // `MAX_READ`, and goes to the decoder as a view, never copied.
      const socket = Net.createConnection({
        host: settings.host,
        port: settings.port,
        onread: {
          // A read never takes the buffer more than `MIN_READ` past its limit.
          buffer: () => reads.next(settings.bufferBytes - buffered),
          callback: (n: number, buf: Uint8Array) => {
            onData(reads.take(buf, n))
            return true
          }
        }
      })
      conn = socket
      // Kept for the socket's life, as NodeSocket.makeNet does: an 'error' without a listener would throw.
      socket.on("error", (cause) => resume(Effect.fail(new Socket.SocketGenericError({ reason: "Open", cause }))))
      socket.once("connect", () => {
        socket.setNoDelay(true)
        socket.setKeepAlive(true, 10_000)
        resume(Effect.succeed(socket))
      })
      return Effect.sync(() => socket.destroy())
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

  yield* setState("Connecting", {
    gateway: address,
    sessionId: undefined,
    bufferBytes: 0,
    bufferLimit: settings.bufferBytes
  })
  const socket = yield* NodeSocket.fromDuplex(openNet, { openTimeout: settings.connectTimeout })

  yield* socket.run(onData, {
    onOpen: Effect.suspend(() => {
      connected = true
      return SubscriptionRef.update(status.ref, (s) => ({
        ...s,
        state: "Authenticating" as const,
        connections: s.connections + 1,
        updatedAt: clock.unsafeCurrentTimeMillis()
      }))
    })
  }).pipe(
    Effect.matchEffect({
      // A clean close (FIN) ends the socket successfully: for a live feed that is a lost connection all the same.
      onSuccess: () =>
        Effect.sync(() =>
          fail(new GatewayError({ reason: "Closed", detail: `gateway ${address} closed the connection` }))
        ),
      onFailure: (e) => Effect.sync(() => fail(fromSocketError(e, address, connected)))
    }),
    Effect.forkScoped,
    Effect.interruptible
  )

  const write = yield* socket.writer
  const send = (text: string) =>
    write(text).pipe(Effect.mapError((e) => fromSocketError(e, address, true)))
  const takeLine = lines.take.pipe(
    Effect.catchTag("NoSuchElementException", () =>
      Effect.fail(new GatewayError({ reason: "Closed", detail: `gateway ${address} closed during the handshake` })))
  )

  const handshake = Effect.gen(function*() {
    const greeting = Gateway.parseGreeting(yield* takeLine)
    const challenge = Gateway.parseChallenge(yield* takeLine)
    if (challenge === undefined) {
      return yield* new GatewayError({ reason: "Protocol", detail: "expected a cram challenge after the greeting" })
    }
    yield* send(Gateway.formatAuthRequest({
      auth: Cram.reply(challenge, settings.apiKey),
      dataset: settings.dataset,
      encoding: "dbn",
      tsOut: false,
      compression: "none",
      heartbeatIntervalS: Math.round(Duration.toSeconds(settings.heartbeat)),
      slowReaderBehavior: undefined,
      client: settings.client
    }))
    const reply = Gateway.parseAuthReply(yield* takeLine)
    if (reply._tag === "Failure") {
      const why = Cram.scrub(reply.error, settings.apiKey)
      return yield* new GatewayError({ reason: "Auth", detail: `gateway rejected the key: ${why}` })
    }
    return { sessionId: reply.sessionId, lsgVersion: greeting.lsgVersion }
  }).pipe(
    Effect.timeoutFail({
      duration: settings.authTimeout,
      onTimeout: () =>
        new GatewayError({
          reason: "Connect",
          detail: `no handshake from ${address} within ${Duration.format(settings.authTimeout)}`
        })
    })
  )

  const { sessionId, lsgVersion } = yield* handshake
  yield* setState("Subscribed", { sessionId, lsgVersion })
  yield* send(subscriptionLines(settings, request))
  yield* send(Gateway.START_SESSION)
  lastByteAt = clock.unsafeCurrentTimeMillis()
  yield* setState("Streaming", { replaying: request.start !== undefined })
  yield* Effect.logInfo("Gateway session started").pipe(Effect.annotateLogs({
    gateway: address,
    sessionId,
    lsgVersion: lsgVersion ?? "",
    dataset: settings.dataset,
    symbols: settings.symbols.join(","),
    schemas: settings.schemas.join(","),
    start: request.start === undefined ? "" : request.start.toString(),
    snapshot: request.snapshot && request.start === undefined
  }))

  const deadMs = Duration.toMillis(settings.heartbeat) + Duration.toMillis(settings.heartbeatGrace)
  yield* Effect.gen(function*() {
    while (true) {
      const now = yield* Clock.currentTimeMillis
      if (paused) {
        yield* Effect.sleep(Duration.millis(deadMs))
        continue
      }
      const due = lastByteAt + deadMs
      if (now >= due) {
        return fail(new GatewayError({
          reason: "HeartbeatTimeout",
          detail: `no data or heartbeat from ${address} for ${Math.round((now - lastByteAt) / 1000)} s`
        }))
      }
      yield* Effect.sleep(Duration.millis(due - now))
    }
  }).pipe(Effect.forkScoped)

  const session: Session = {
    sessionId,
    lsgVersion,
    request,
    bytes: Mailbox.toStream(bytes).pipe(Stream.mapChunks((chunk) => {
      taken(chunk)
      if (chunk.length <= 1) return chunk
      const one = concat(chunk)
      for (const b of chunk) reads.giveBack(b)
      held = Chunk.empty()
      return Chunk.of(one)
    })),
    buffered: () => buffered,
    pauses: () => pauses
  }
  return session
})
