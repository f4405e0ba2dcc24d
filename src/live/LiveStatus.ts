/**
 * What the live client is doing, for the status interface: connection state, counters, buffer depth, lag,
 * reconnects with the gap each covered, and gaps waiting for a historical fallback. Never holds the key.
 * shared/spec/databento.md §8.4, §9.
 */
import { Context, Effect, Layer, type Stream, SubscriptionRef } from "effect"
import type { Cursor } from "../source/Cursor.js"

export type State = "Idle" | "Connecting" | "Authenticating" | "Subscribed" | "Streaming" | "Reconnecting" | "Stopped"

/** One outage and how it was covered. */
export interface Outage {
  /** Cursor when the connection was lost: everything up to it had been delivered. */
  readonly from: Cursor | undefined
  /** ts_event (ns) of the first record delivered after reconnecting. */
  readonly to: bigint | undefined
  /** Wall time from losing the connection to the first record after it, ms. */
  readonly tookMs: number
  /** Connection attempts it took. */
  readonly attempts: number
  /** True when the gateway replayed the gap (no loss); false when it is pending in `pendingGaps`. */
  readonly replayed: boolean
  readonly reason: string
}

/** Records the gateway could not deliver: to be fetched from the historical API (a later issue). */
export interface PendingGap {
  /** Numbers the gaps of one stream. */
  readonly id: number
  /** Everything up to this cursor was delivered; the gap starts right after it. */
  readonly from: Cursor | undefined
  /** ts_event (ns) of the first record delivered after the gap (exclusive end); undefined until it arrives. */
  readonly to: bigint | undefined
  /** FillFailed: a fill failed, so the client went live with a snapshot to rebuild the books, missing this interval. */
  readonly reason: "ReplayRefused" | "OutageTooLong" | "RecordsSkipped" | "FillFailed"
  /** Safe text: the gateway's error or our reason. */
  readonly detail: string
  /** Wall clock, ms since epoch. */
  readonly recordedAt: number
}

/** A gap filled from the historical API. */
export interface RecoveredGap extends PendingGap {
  readonly records: number
  readonly tookMs: number
}

/** Recovered gaps kept in the snapshot (the StreamManager stores every one). */
export const RECENT_GAPS = 20

export interface Snapshot {
  readonly state: State
  readonly gateway: string
  readonly sessionId: string | undefined
  /** `lsg_version` from the greeting. */
  readonly lsgVersion: string | undefined
  /** TCP connections opened. */
  readonly connections: number
  /** Reconnect attempts (each failed or successful attempt after a lost connection). */
  readonly reconnects: number
  /** Data records delivered downstream (replayed duplicates excluded). */
  readonly records: number
  readonly heartbeats: number
  /** Non-heartbeat SystemMsg records (acks, replay completed, slow-reader warnings). */
  readonly systemMessages: number
  readonly slowReaderWarnings: number
  /** ErrorMsg records received. */
  readonly gatewayErrors: number
  /** Safe text of the last failure or gateway error. */
  readonly lastError: string | undefined
  /** True while the gateway replays (between a `start` subscription and REPLAY_COMPLETED). */
  readonly replaying: boolean
  readonly cursor: Cursor | undefined
  /** ts_event (ns) of the last record delivered. */
  readonly lastTsEvent: bigint | undefined
  /** Wall clock minus the last delivered ts_event, ms, at the last update. */
  readonly lagMs: number | undefined
  /** Bytes received and not yet taken by the consumer. */
  readonly bufferBytes: number
  readonly bufferLimit: number
  /** Times reading was paused because the consumer fell behind. */
  readonly pauses: number
  readonly lastGap: Outage | undefined
  readonly pendingGaps: ReadonlyArray<PendingGap>
  /** Gaps filled from the historical API, and the records that brought. */
  readonly gapsRecovered: number
  readonly gapRecordsRecovered: number
  /** Historical fills that failed (their gaps stay pending). */
  readonly gapFillFailures: number
  /** The last `RECENT_GAPS` recovered gaps, oldest first. */
  readonly recoveredGaps: ReadonlyArray<RecoveredGap>
  /** Wall clock of the last update, ms since epoch. */
  readonly updatedAt: number
}

export const initial: Snapshot = {
  state: "Idle",
  gateway: "",
  sessionId: undefined,
  lsgVersion: undefined,
  connections: 0,
  reconnects: 0,
  records: 0,
  heartbeats: 0,
  systemMessages: 0,
  slowReaderWarnings: 0,
  gatewayErrors: 0,
  lastError: undefined,
  replaying: false,
  cursor: undefined,
  lastTsEvent: undefined,
  lagMs: undefined,
  bufferBytes: 0,
  bufferLimit: 0,
  pauses: 0,
  lastGap: undefined,
  pendingGaps: [],
  gapsRecovered: 0,
  gapRecordsRecovered: 0,
  gapFillFailures: 0,
  recoveredGaps: [],
  updatedAt: 0
}

export class LiveStatus extends Context.Tag("ifd/live/LiveStatus")<LiveStatus, {
  readonly ref: SubscriptionRef.SubscriptionRef<Snapshot>
  readonly get: Effect.Effect<Snapshot>
  /** The current snapshot, then every change. */
  readonly changes: Stream.Stream<Snapshot>
  /** Hands the pending gaps over (to the historical fallback) and clears them; a gap whose end is unknown stays. */
  readonly takePendingGaps: Effect.Effect<ReadonlyArray<PendingGap>>
}>() {}

export const make = Effect.gen(function*() {
  const ref = yield* SubscriptionRef.make(initial)
  const takePendingGaps = SubscriptionRef.modify(ref, (s): readonly [ReadonlyArray<PendingGap>, Snapshot] => {
    const done = s.pendingGaps.filter((g) => g.to !== undefined)
    return [done, { ...s, pendingGaps: s.pendingGaps.filter((g) => g.to === undefined) }]
  })
  return LiveStatus.of({ ref, get: SubscriptionRef.get(ref), changes: ref.changes, takePendingGaps })
})

export const layer: Layer.Layer<LiveStatus> = Layer.effect(LiveStatus, make)
