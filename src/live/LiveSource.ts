/**
 * The live gateway as a `MarketDataSource`: sessions decoded into the same chunks as replay, reconnected with
 * jittered exponential backoff, resumed exactly from the cursor of what was delivered (gateway replay from
 * `start` + `Cursor.Skipper`), gaps the gateway cannot replay recorded for a historical fallback.
 * shared/spec/databento.md §8, §9; STYLE.md "Live connection: reconnect and resume".
 */
import { Channel, Chunk, Clock, Duration, Effect, Layer, Option, Ref, Schedule, Stream, SubscriptionRef } from "effect"
import type { DecodedChunk } from "../dbn/Batch.js"
import { ErrorCode, SystemCode } from "../dbn/Constants.js"
import * as Cursor from "../source/Cursor.js"
import * as Decode from "../source/Decode.js"
import { MarketDataSource, SourceError } from "../source/MarketDataSource.js"
import * as Cram from "./Cram.js"
import { ByteMeter, GapFill, type GapFillError } from "./GapFill.js"
import { GatewayError, isRetryable } from "./GatewayError.js"
import { LiveConfig, type LiveSettings } from "./LiveConfig.js"
import * as LiveConfigModule from "./LiveConfig.js"
import { LiveStatus, type Outage, type PendingGap, RECENT_GAPS, type Snapshot } from "./LiveStatus.js"
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
  /** A pending gap waits for the first event after it: its end, where its fill goes. */
  openGap: PendingGap | undefined
  /** A fill failed, so the books lack its gap: the next connection goes live with a snapshot to rebuild them. */
  resnapshot: boolean
  /** Finds the open gap's end in this connection's records (see `Resume.GapEnd`). */
  gapEnd: Resume.GapEnd | undefined
  /**
   * The current connection began with a snapshot taken after the open gap began: its records after the snapshot are
   * all applied (see `Resume.GapEnd`). Cleared when records are skipped later on the same connection.
   */
  snapshotted: boolean
  nextGapId: number
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

/** A closed gap to fill from the historical API, in its place in the stream. */
type FillGap = PendingGap & { readonly from: Cursor.Cursor; readonly to: bigint }
interface Fill {
  readonly _tag: "Fill"
  readonly gap: FillGap
}
type Item = DecodedChunk | Fill
const isFill = (item: Item): item is Fill => "_tag" in item && item._tag === "Fill"

interface Handled {
  readonly out: Array<Item>
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
    const gapFill = Option.getOrUndefined(yield* Effect.serviceOption(GapFill))
    const meter = Option.getOrUndefined(yield* Effect.serviceOption(ByteMeter))
    const driver = yield* Schedule.driver(Reconnect.policy(settings))
    const run: Run = {
      cursor: yield* Ref.make(from),
      sessions: 0,
      metadataDelivered: false,
      outage: undefined,
      blocked: undefined,
      openGap: undefined,
      gapEnd: undefined,
      snapshotted: false,
      resnapshot: false,
      nextGapId: 1,
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
        const out: Array<Item> = []
        const logs: Array<Effect.Effect<void>> = []
        const opened: Array<PendingGap> = []
        const closed = new Map<number, bigint>()
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
          // Gaps inside this chunk (records the gateway skipped after slow reading), at the row they precede.
          const cuts: Array<{ readonly row: number; readonly gap: PendingGap }> = []
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
              cuts.push({
                row: at,
                gap: {
                  id: run.nextGapId++,
                  from: undefined,
                  to: undefined,
                  reason: "RecordsSkipped",
                  detail: text,
                  recordedAt: now
                }
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

          // In stream order: each piece of the chunk is preceded by the gap at its start (if any). A gap stays open
          // until the first event after it, which is its end: the historical fill of [from, end) goes right there.
          const pieces = cuts.length === 0 ? [kept] : Resume.cutAt(kept, cuts.map((c) => c.row))
          for (let p = 0; p < pieces.length; p++) {
            let chunk = pieces[p]!
            if (p > 0) {
              const gap = { ...cuts[p - 1]!.gap, from: cursor }
              // Records skipped on this connection come after its snapshot: the snapshot covers no part of them.
              run.snapshotted = false
              if (run.openGap === undefined) {
                run.openGap = gap
                opened.push(gap)
              } else {
                // Inside an open gap (every event since it began was dropped): the open gap now also covers this one,
                // so its end is looked for again after this cut.
                run.gapEnd = undefined
                logs.push(Effect.logWarning("Records skipped again inside an open gap").pipe(
                  Effect.annotateLogs({ detail: gap.detail })
                ))
              }
            }
            if (run.openGap !== undefined) {
              // Events sharing the first timestamp after the gap may have been missed in part (the gap can end in
              // the middle of them): that whole timestamp belongs to the gap, and the gap ends just after it.
              run.gapEnd ??= new Resume.GapEnd(run.snapshotted)
              chunk = run.gapEnd.apply(chunk)
              if (run.gapEnd.passed) {
                const gap = run.openGap
                const to = run.gapEnd.lastTs! + 1n
                run.openGap = undefined
                run.gapEnd = undefined
                run.blocked = undefined
                closed.set(gap.id, to)
                logs.push(Effect.logWarning("Gap closed").pipe(Effect.annotateLogs({
                  reason: gap.reason,
                  ...annotateCursor(gap.from),
                  to: to.toString(),
                  fill: gapFill === undefined
                    ? "none configured: pending"
                    : gap.from === undefined
                    ? "no start: pending"
                    : "historical"
                })))
                // After a snapshot (FillFailed) the books are current: the gap's records would be applied twice.
                if (gapFill !== undefined && gap.from !== undefined && gap.reason !== "FillFailed") {
                  out.push({ _tag: "Fill", gap: { ...gap, from: gap.from, to } })
                }
              }
            }
            // Snapshot rows are the book as it stands, not events a replay from the cursor would send again.
            const adv = Resume.advanceEvents(cursor, chunk, chunk.mbo.length, true)
            cursor = adv.cursor
            if (adv.events > 0 && first === undefined) first = adv.first
            events += adv.events
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
        for (const g of opened) {
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
          pendingGaps: closed.size > 0 || opened.length > 0
            ? [...s.pendingGaps, ...opened].map((g) => closed.has(g.id) ? { ...g, to: closed.get(g.id) } : g)
            : s.pendingGaps
        }))
        if (logs.length > 0) yield* Effect.all(logs, { discard: true })
        return { out, failure }
      })

    /**
     * The historical records of a closed gap, never failing: a fill that fails (budget, API) leaves the gap
     * pending (from the last record it delivered), logged, for `backfill` or a later run.
     */
    const fillStream = (gap: FillGap): Stream.Stream<DecodedChunk> =>
      gapFill === undefined ? Stream.empty : Stream.suspend(() => {
        let records = 0
        let reached: Cursor.Cursor | undefined
        let started = 0
        const done = Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          yield* update((s) => ({
            ...s,
            gapsRecovered: s.gapsRecovered + 1,
            gapRecordsRecovered: s.gapRecordsRecovered + records,
            pendingGaps: s.pendingGaps.filter((g) => g.id !== gap.id),
            recoveredGaps: [...s.recoveredGaps, { ...gap, records, tookMs: now - started }].slice(-RECENT_GAPS)
          }))
          yield* Effect.logInfo("Gap recovered from the historical API").pipe(Effect.annotateLogs({
            reason: gap.reason,
            ...annotateCursor(gap.from),
            to: gap.to.toString(),
            records,
            tookMs: now - started
          }))
        })
        const failed = (e: GapFillError) =>
          Effect.gen(function*() {
            const from = reached ?? gap.from
            yield* update((s) => ({
              ...s,
              gapFillFailures: s.gapFillFailures + 1,
              lastError: e.message,
              pendingGaps: s.pendingGaps.map((g) => g.id === gap.id ? { ...g, from, detail: `${g.detail}; ${e.message}` } : g)
            }))
            // The books lack the gap's records: rebuild them from a snapshot on a new connection (if snapshots are on).
            if (settings.snapshot) run.resnapshot = true
            yield* Effect.logError("Gap not recovered: left pending").pipe(Effect.annotateLogs({
              reason: gap.reason,
              ...annotateCursor(from),
              to: gap.to.toString(),
              delivered: records,
              error: e.message
            }))
          })
        return Stream.execute(Effect.map(Clock.currentTimeMillis, (t) => void (started = t))).pipe(
          Stream.concat(gapFill.fill(gap)),
          Stream.tap((c) =>
            Effect.sync(() => {
              records += c.mbo.length + c.others.length
              reached = Cursor.advance(reached ?? gap.from, c)
            })
          ),
          Stream.concat(Stream.execute(done)),
          Stream.catchAll((e) => Stream.execute(failed(e)))
        )
      })

    /** Writes the items in order: runs of chunks as one write, a fill as the stream of its records. */
    const emit = (items: ReadonlyArray<Item>): Channel.Channel<Chunk.Chunk<DecodedChunk>, unknown, never, unknown, void, unknown> => {
      let channel: Channel.Channel<Chunk.Chunk<DecodedChunk>, unknown, never, unknown, void, unknown> = Channel.void
      let pending: Array<DecodedChunk> = []
      const flush = () => {
        if (pending.length > 0) channel = Channel.zipRight(channel, Channel.write(Chunk.unsafeFromArray(pending)))
        pending = []
      }
      for (const item of items) {
        if (isFill(item)) {
          flush()
          channel = Channel.zipRight(channel, Channel.asVoid(Stream.toChannel(fillStream(item.gap))))
        } else pending.push(item)
      }
      flush()
      return channel
    }

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
            const write = out.length === 0
              ? Channel.void
              : out.some(isFill)
              ? emit(out)
              : Channel.write(Chunk.unsafeFromArray(out as Array<DecodedChunk>))
            // Records before a failure are delivered (and counted in the cursor) before the session ends.
            return Channel.zipRight(
              write,
              Channel.suspend(() => {
                if (failure !== undefined) return Channel.fail(failure)
                if (!run.resnapshot) return loop
                const detail = "a gap fill failed: going live with a snapshot to rebuild the books"
                run.blocked = { reason: "FillFailed", detail }
                run.retryNow = true
                return Channel.fail(new GatewayError({ reason: "Gateway", detail }))
              })
            )
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
      else if (run.openGap === undefined) {
        const { reason, detail } = run.blocked
        run.openGap = { id: run.nextGapId++, from: cursor, to: undefined, reason, detail, recordedAt: now }
        yield* recordGap(run.openGap)
      }
      // A gap still open ends at the first timestamp of this connection, not of the one that was lost.
      run.gapEnd = undefined
      // Going live after a gap: with a historical fill the books carry on from the filled records, so no snapshot;
      // without one a snapshot rebuilds them.
      const snapshot = settings.snapshot && start === undefined &&
        (cursor === undefined || gapFill === undefined || run.resnapshot)
      const session = yield* Session.open(settings, { start, snapshot })
      if (snapshot) run.resnapshot = false
      run.snapshotted = snapshot
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
      // Every byte received counts against the data budget, control messages included, before it is decoded.
      const bytes = meter === undefined ? session.bytes : session.bytes.pipe(Stream.mapChunksEffect((chunk) => {
        let n = 0
        for (const b of chunk) n += b.byteLength
        return Effect.as(meter.record(n), chunk)
      }))
      // Recyclable batches: a consumer that calls `release` (the pipeline does) saves an allocation per chunk.
      return Decode.decodeStream(bytes, { recycle: true }).pipe(
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
  // The historical fallback, when the layer is built with one (the StreamManager provides it).
  const fill = yield* Effect.serviceOption(GapFill)
  const meter = yield* Effect.serviceOption(ByteMeter)
  return MarketDataSource.of({
    name: "live",
    stream: (from) => {
      const s = gatewayStream(settings, from).pipe(
        Stream.mapError(toSourceError),
        Stream.provideService(LiveStatus, status)
      )
      const metered = Option.isSome(meter) ? Stream.provideService(s, ByteMeter, meter.value) : s
      return Option.isSome(fill) ? Stream.provideService(metered, GapFill, fill.value) : metered
    }
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
