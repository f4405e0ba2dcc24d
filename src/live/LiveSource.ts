/**
 * The live gateway as a `MarketDataSource`: sessions decoded into the same chunks as replay, reconnected with
 * jittered exponential backoff, resumed exactly from the cursor of what was delivered (gateway replay from
 * `start` + `Cursor.Skipper`), gaps the gateway cannot replay recorded for a historical fallback.
 * shared/spec/databento.md §8, §9; STYLE.md "Live connection: reconnect and resume".
 */
import { Channel, Chunk, Clock, Duration, Effect, Layer, Ref, Schedule, Stream, SubscriptionRef } from "effect"
import type { DecodedChunk } from "../dbn/Batch.js"
import { ErrorCode, SystemCode } from "../dbn/Constants.js"
import * as Cursor from "../source/Cursor.js"
import * as Decode from "../source/Decode.js"
import { MarketDataSource, SourceError } from "../source/MarketDataSource.js"
import * as Cram from "./Cram.js"
import { GatewayError, isRetryable } from "./GatewayError.js"
import { LiveConfig, type LiveSettings } from "./LiveConfig.js"
import * as LiveConfigModule from "./LiveConfig.js"
import { LiveStatus, type Outage, type PendingGap, type Snapshot } from "./LiveStatus.js"
import * as LiveStatusModule from "./LiveStatus.js"
import * as Reconnect from "./Reconnect.js"
import * as Resume from "./Resume.js"
import * as Session from "./Session.js"

// ---------------------------------------------------------------------------------------------------------------
// The resumable stream

/** State of one `stream(from)` call; it outlives every connection. */
interface Run {
  readonly cursor: Ref.Ref<Cursor.Cursor | undefined>
  sessions: number
  metadataDelivered: boolean
  /** Set from the first lost connection until data (or a heartbeat) flows again. */
  outage: { since: number; from: Cursor.Cursor | undefined; attempts: number; reason: string } | undefined
  /** Why the next connections go live without `start`; cleared once a record arrives after the gap. */
  blocked: { reason: PendingGap["reason"]; detail: string } | undefined
  /** A pending gap waits for the first record after it (its end). */
  gapOpen: boolean
  /** Reconnect at once, without backoff (the replay was refused: retrying without `start` is a different request). */
  retryNow: boolean
  last: Live | undefined
  /** Back-pressure pauses of the connections that ended. */
  pausesBefore: number
}

/** State of one connection. */
interface Live {
  readonly session: Session.Session
  readonly skipper: Cursor.Skipper | undefined
  readonly startedAt: number
  replayCompleted: number
  delivered: number
  heartbeats: number
  /** The last ErrorMsg: reported as the failure when the gateway then closes (as the Python client does). */
  gatewayError: GatewayError | undefined
}

interface Handled {
  readonly out: Array<DecodedChunk>
  readonly failure: GatewayError | undefined
}

const annotateCursor = (c: Cursor.Cursor | undefined) =>
  c === undefined ? { cursorTsEvent: "", cursorSeen: 0 } : { cursorTsEvent: c.tsEvent.toString(), cursorSeen: c.seen }

/**
 * Decoded chunks from the gateway, resumed exactly across reconnects. Fails only with a non-retryable
 * `GatewayError` (Auth, a rejected subscription) or when `giveUpAfter` is exceeded.
 */
export const gatewayStream = (
  settings: LiveSettings,
  from: Cursor.Cursor | undefined
): Stream.Stream<DecodedChunk, GatewayError, LiveStatus> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const status = yield* LiveStatus
    const driver = yield* Schedule.driver(Reconnect.policy(settings))
    const run: Run = {
      cursor: yield* Ref.make(from),
      sessions: 0,
      metadataDelivered: false,
      outage: undefined,
      blocked: undefined,
      gapOpen: false,
      retryNow: false,
      last: undefined,
      pausesBefore: 0
    }
    const update = (f: (s: Snapshot) => Snapshot) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        SubscriptionRef.update(status.ref, (s) => ({ ...f(s), updatedAt: now })))
    const schemas = settings.schemas.length

    const recordGap = (gap: PendingGap) =>
      Effect.zipRight(
        update((s) => ({ ...s, pendingGaps: [...s.pendingGaps, gap] })),
        Effect.logWarning("Gap recorded for the historical fallback").pipe(Effect.annotateLogs({
          reason: gap.reason,
          detail: gap.detail,
          ...annotateCursor(gap.from),
          to: gap.to === undefined ? "" : gap.to.toString()
        }))
      )

    const handle = (live: Live, input: Chunk.Chunk<DecodedChunk>): Effect.Effect<Handled> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        let cursor = yield* Ref.get(run.cursor)
        const out: Array<DecodedChunk> = []
        const logs: Array<Effect.Effect<void>> = []
        const gaps: Array<PendingGap> = []
        let failure: GatewayError | undefined
        let heartbeats = 0
        let system = 0
        let slow = 0
        let errors = 0
        let events = 0
        let first: bigint | undefined
        let lastError: string | undefined
        let replayDone = false

        for (const raw of input) {
          const { data, control } = Resume.splitControl(raw)
          const kept = live.skipper === undefined ? data : live.skipper.apply(data)
          // The Skipper drops a prefix of the events, so a control record after row r follows row r - dropped.
          const dropped = data.mbo.length - kept.mbo.length
          for (const c of control) {
            const r = c.record
            if (r._tag === "system") {
              if (r.isHeartbeat) {
                heartbeats++
                continue
              }
              system++
              if (Resume.isReplayCompleted(r)) {
                live.replayCompleted++
                if (live.replayCompleted === schemas) replayDone = true
                logs.push(Effect.logInfo("Gateway replay completed").pipe(Effect.annotateLogs({ msg: r.msg })))
              } else if (r.code === SystemCode.SLOW_READER_WARNING) {
                slow++
                logs.push(Effect.logWarning("Gateway slow-reader warning").pipe(Effect.annotateLogs({ msg: r.msg })))
              } else if (r.code === SystemCode.SUBSCRIPTION_ACK) {
                logs.push(Effect.logInfo("Gateway subscription acknowledged").pipe(Effect.annotateLogs({ msg: r.msg })))
              } else if (r.code !== SystemCode.END_OF_INTERVAL) {
                const annotations = { code: r.code, msg: r.msg }
                logs.push(Effect.logInfo("Gateway system message").pipe(Effect.annotateLogs(annotations)))
              }
              continue
            }
            errors++
            const text = Cram.scrub(r.err, settings.apiKey)
            lastError = `gateway error ${r.code}: ${text}`
            logs.push(Effect.logError("Gateway error message").pipe(Effect.annotateLogs({ code: r.code, err: text })))
            if (r.code === ErrorCode.AUTH_FAILED || r.code === ErrorCode.API_KEY_DEACTIVATED) {
              failure ??= new GatewayError({ reason: "Auth", code: r.code, detail: text })
            } else if (r.code === ErrorCode.SKIPPED_RECORDS_AFTER_SLOW_READING) {
              const at = Math.max(0, c.row - dropped)
              const before = Resume.advanceEvents(cursor, kept, at).cursor
              gaps.push({
                from: before,
                to: at < kept.mbo.length
                  ? (BigInt(kept.mbo.tsEventHi[at]!) << 32n) | BigInt(kept.mbo.tsEventLo[at]!)
                  : undefined,
                reason: "RecordsSkipped",
                detail: text,
                recordedAt: now
              })
            } else if (
              live.session.request.start !== undefined && live.replayCompleted < schemas &&
              (r.code === ErrorCode.INVALID_SUBSCRIPTION || r.code === ErrorCode.UNSET || /start|replay/i.test(text))
            ) {
              // The gateway will not replay from our cursor (too old, or not offered): go on live and record the gap.
              run.blocked ??= { reason: "ReplayRefused", detail: text }
              run.retryNow = true
              failure ??= new GatewayError({ reason: "Gateway", code: r.code, detail: `replay refused: ${text}` })
            } else {
              live.gatewayError = new GatewayError({ reason: "Gateway", code: r.code, detail: text })
            }
          }

          const adv = Resume.advanceEvents(cursor, kept)
          cursor = adv.cursor
          if (adv.events > 0 && first === undefined) first = adv.first
          events += adv.events
          let chunk = kept
          if (chunk.metadata !== undefined) {
            const m = chunk.metadata
            logs.push(Effect.logDebug("Gateway metadata").pipe(Effect.annotateLogs({
              version: m.version,
              dataset: m.dataset,
              start: m.start.toString(),
              tsOut: m.ts_out
            })))
            // One metadata per stream, as from a file: later sessions' metadata would look like a new stream.
            if (run.metadataDelivered) chunk = { ...chunk, metadata: undefined }
            else run.metadataDelivered = true
          }
          // A fatal decode error ends this session and is recovered by reconnecting; the records before it are good.
          if (chunk.fatal !== undefined) chunk = { ...chunk, fatal: undefined }
          if (chunk.mbo.length > 0 || chunk.others.length > 0 || chunk.metadata !== undefined) out.push(chunk)
        }

        yield* Ref.set(run.cursor, cursor)
        live.delivered += events
        live.heartbeats += heartbeats

        let lastGap: Outage | undefined
        if (run.outage !== undefined && (events > 0 || heartbeats > 0 || replayDone)) {
          const o = run.outage
          run.outage = undefined
          lastGap = {
            from: o.from,
            to: first,
            tookMs: now - o.since,
            attempts: o.attempts,
            replayed: live.session.request.start !== undefined,
            reason: o.reason
          }
          logs.push(Effect.logInfo("Gateway reconnected").pipe(Effect.annotateLogs({
            ...annotateCursor(o.from),
            gapTo: first === undefined ? "" : first.toString(),
            tookMs: lastGap.tookMs,
            attempts: o.attempts,
            replayed: lastGap.replayed,
            after: o.reason
          })))
        }
        const closeGap = run.gapOpen && first !== undefined
        if (closeGap) {
          run.gapOpen = false
          run.blocked = undefined
          logs.push(Effect.logWarning("Gap closed: pending historical fallback").pipe(Effect.annotateLogs({
            to: first!.toString()
          })))
        }
        for (const g of gaps) {
          if (g.to === undefined) run.gapOpen = true
          logs.push(Effect.logWarning("Gap recorded for the historical fallback").pipe(Effect.annotateLogs({
            reason: g.reason,
            detail: g.detail,
            ...annotateCursor(g.from)
          })))
        }

        yield* update((s) => ({
          ...s,
          records: s.records + events,
          heartbeats: s.heartbeats + heartbeats,
          systemMessages: s.systemMessages + system,
          slowReaderWarnings: s.slowReaderWarnings + slow,
          gatewayErrors: s.gatewayErrors + errors,
          lastError: lastError ?? s.lastError,
          replaying: s.replaying && !replayDone,
          cursor,
          lastTsEvent: cursor?.tsEvent,
          lagMs: cursor === undefined ? undefined : now - Resume.nsToMs(cursor.tsEvent),
          bufferBytes: live.session.buffered(),
          pauses: run.pausesBefore + live.session.pauses(),
          lastGap: lastGap ?? s.lastGap,
          pendingGaps: closeGap || gaps.length > 0
            ? [
              ...s.pendingGaps.map((g) => closeGap && g.to === undefined ? { ...g, to: first } : g),
              ...gaps
            ]
            : s.pendingGaps
        }))
        if (logs.length > 0) yield* Effect.all(logs, { discard: true })
        return { out, failure }
      })

    const deliver = (live: Live): Channel.Channel<
      Chunk.Chunk<DecodedChunk>,
      Chunk.Chunk<DecodedChunk>,
      GatewayError,
      GatewayError,
      unknown,
      unknown
    > => {
      const loop: Channel.Channel<
        Chunk.Chunk<DecodedChunk>,
        Chunk.Chunk<DecodedChunk>,
        GatewayError,
        GatewayError,
        unknown,
        unknown
      > = Channel.readWithCause({
        onInput: (input: Chunk.Chunk<DecodedChunk>) =>
          Channel.unwrap(Effect.map(handle(live, input), ({ out, failure }) => {
            const write = out.length === 0 ? Channel.void : Channel.write(Chunk.unsafeFromArray(out))
            // Records before a failure are delivered (and counted in the cursor) before the session ends.
            return Channel.zipRight(write, failure === undefined ? loop : Channel.fail(failure))
          })),
        onFailure: Channel.failCause,
        onDone: () => Channel.fail(new GatewayError({ reason: "Closed", detail: "gateway stream ended" }))
      })
      return loop
    }

    const connect: Stream.Stream<DecodedChunk, GatewayError, LiveStatus> = Stream.unwrapScoped(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const cursor = yield* Ref.get(run.cursor)
      if (
        run.outage !== undefined && cursor !== undefined && run.blocked === undefined &&
        now - run.outage.since > Duration.toMillis(settings.replayWithin)
      ) {
        run.blocked = {
          reason: "OutageTooLong",
          detail: `outage of ${Math.round((now - run.outage.since) / 1000)} s exceeds ` +
            Duration.format(settings.replayWithin)
        }
      }
      let start: bigint | undefined
      if (cursor === undefined) start = settings.start
      else if (run.blocked === undefined) start = cursor.tsEvent
      else if (!run.gapOpen) {
        run.gapOpen = true
        const { reason, detail } = run.blocked
        yield* recordGap({ from: cursor, to: undefined, reason, detail, recordedAt: now })
      }
      const session = yield* Session.open(settings, { start, snapshot: settings.snapshot && start === undefined })
      run.sessions++
      const live: Live = {
        session,
        skipper: start !== undefined && cursor !== undefined ? new Cursor.Skipper(cursor) : undefined,
        startedAt: yield* Clock.currentTimeMillis,
        replayCompleted: 0,
        delivered: 0,
        heartbeats: 0,
        gatewayError: undefined
      }
      run.last = live
      return Decode.decodeStream(session.bytes).pipe(
        Stream.mapError((e) =>
          e._tag === "DbnError" ? new GatewayError({ reason: "Protocol", detail: `DBN stream: ${e.message}` }) : e
        ),
        Stream.pipeThroughChannelOrFail(deliver(live)),
        // The gateway's own error explains a close better than the close does.
        Stream.mapError((e) => e.reason === "Closed" && live.gatewayError !== undefined ? live.gatewayError : e)
      )
    }))

    const afterFailure = (e: GatewayError) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const cursor = yield* Ref.get(run.cursor)
        const live = run.last
        run.last = undefined
        if (live !== undefined) run.pausesBefore += live.session.pauses()
        const healthy = live !== undefined &&
          (live.delivered > 0 || now - live.startedAt >= Duration.toMillis(settings.healthyAfter))
        if (healthy) yield* driver.reset
        run.outage ??= { since: now, from: cursor, attempts: 0, reason: e.message }
        const outage = run.outage
        outage.attempts++
        const retryNow = run.retryNow
        run.retryNow = false
        yield* update((s) => ({ ...s, state: "Reconnecting", sessionId: undefined, lastError: e.message }))
        if (!retryNow && !isRetryable(e)) return yield* e
        const down = now - outage.since
        if (settings.giveUpAfter !== undefined && down >= Duration.toMillis(settings.giveUpAfter)) {
          return yield* new GatewayError({
            reason: e.reason,
            ...(e.code === undefined ? {} : { code: e.code }),
            detail: `${e.detail ?? e.reason}; gave up after ${Math.round(down / 1000)} s of reconnecting`
          })
        }
        yield* Effect.logWarning("Gateway connection lost").pipe(Effect.annotateLogs({
          reason: e.reason,
          detail: e.detail ?? "",
          attempt: outage.attempts,
          downMs: down,
          ...annotateCursor(cursor)
        }))
        if (!retryNow) yield* Effect.catchAll(driver.next(e), () => Effect.fail(e))
        yield* update((s) => ({ ...s, reconnects: s.reconnects + 1 }))
      })

    const loop = (): Stream.Stream<DecodedChunk, GatewayError, LiveStatus> =>
      connect.pipe(Stream.catchAll((e) => Stream.unwrap(Effect.as(afterFailure(e), loop()))))

    yield* update((s) => ({ ...s, state: "Connecting", cursor: from, bufferLimit: settings.bufferBytes }))
    if (from !== undefined) {
      yield* Effect.logInfo("Live stream resuming from cursor").pipe(Effect.annotateLogs(annotateCursor(from)))
    }
    return loop().pipe(Stream.ensuring(update((s) => ({ ...s, state: "Stopped", sessionId: undefined }))))
  }))

// ---------------------------------------------------------------------------------------------------------------
// Layers

export const toSourceError = (e: GatewayError): SourceError =>
  new SourceError({ reason: e.reason === "Auth" ? "Auth" : "Gateway", detail: e.message })

export const make = Effect.gen(function*() {
  const settings = yield* LiveConfig
  const status = yield* LiveStatus
  return MarketDataSource.of({
    name: "live",
    stream: (from) =>
      gatewayStream(settings, from).pipe(
        Stream.mapError(toSourceError),
        Stream.provideService(LiveStatus, status)
      )
  })
})

/** `MarketDataSource` + `LiveStatus` from a `LiveConfig`. */
export const layer: Layer.Layer<MarketDataSource | LiveStatus, never, LiveConfig> = Layer.effect(
  MarketDataSource,
  make
).pipe(
  Layer.provideMerge(LiveStatusModule.layer)
)

/** Everything from the environment (DATABENTO_API_KEY, IFD_GATEWAY_HOST, …). */
export const layerConfig = layer.pipe(Layer.provide(LiveConfigModule.layerConfig))
