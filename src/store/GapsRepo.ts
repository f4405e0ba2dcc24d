/**
 * Gaps of the live feed in `gaps`: recorded when the gateway could not replay an interval, updated when the gap's
 * end is known and when the historical fallback recovered it. What is left `pending` is data the stored windows
 * lack, with exact bounds, for a backfill. Keyed by (source, start cursor): re-recording a gap updates it.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import type { PendingGap } from "../live/LiveStatus.js"
import { mapSql } from "./StoreError.js"

export type GapStatus = "open" | "pending" | "recovered"

export interface StoredGap {
  readonly source: string
  readonly fromTs: bigint
  readonly fromSeen: number
  readonly toTs: bigint | undefined
  readonly reason: string
  readonly detail: string
  readonly status: GapStatus
  readonly records: number
  readonly recordedAt: number
  readonly updatedAt: number
}

interface Row {
  readonly source: string
  readonly from_ts: string
  readonly from_seen: number
  readonly to_ts: string | null
  readonly reason: string
  readonly detail: string
  readonly status: GapStatus
  readonly records: number
  readonly recorded_at: number
  readonly updated_at: number
}

const fromRow = (r: Row): StoredGap => ({
  source: r.source,
  fromTs: BigInt(r.from_ts),
  fromSeen: r.from_seen,
  toTs: r.to_ts === null ? undefined : BigInt(r.to_ts),
  reason: r.reason,
  detail: r.detail,
  status: r.status,
  records: r.records,
  recordedAt: r.recorded_at,
  updatedAt: r.updated_at
})

export class GapsRepo extends Effect.Service<GapsRepo>()("ifd/store/GapsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Records or updates a gap (a gap without a start cursor can not be located and is not stored). */
    const put = Effect.fn("GapsRepo.put")(
      function*(source: string, gap: PendingGap, status: GapStatus, records = 0) {
        if (gap.from === undefined) return false
        const now = yield* Clock.currentTimeMillis
        const to = gap.to === undefined ? null : gap.to.toString()
        yield* sql`INSERT INTO gaps (source, from_ts, from_seen, to_ts, reason, detail, status, records, recorded_at, updated_at)
          VALUES (${source}, ${gap.from.tsEvent.toString()}, ${gap.from.seen}, ${to}, ${gap.reason}, ${gap.detail},
            ${status}, ${records}, ${gap.recordedAt}, ${now})
          ON CONFLICT (source, from_ts, from_seen) DO UPDATE SET
            to_ts = COALESCE(excluded.to_ts, to_ts), detail = excluded.detail, status = excluded.status,
            records = MAX(records, excluded.records), updated_at = excluded.updated_at`
        return true
      },
      mapSql("GapsRepo.put")
    )

    const list = Effect.fn("GapsRepo.list")(
      function*(status?: GapStatus) {
        const rows = status === undefined
          ? yield* sql<Row>`SELECT * FROM gaps ORDER BY from_ts, from_seen`
          : yield* sql<Row>`SELECT * FROM gaps WHERE status = ${status} ORDER BY from_ts, from_seen`
        return rows.map(fromRow)
      },
      mapSql("GapsRepo.list")
    )

    /** Gaps by status. */
    const counts = Effect.fn("GapsRepo.counts")(
      function*() {
        const rows = yield* sql<{ status: GapStatus; n: number }>`SELECT status, COUNT(*) AS n FROM gaps GROUP BY status`
        const out: Record<GapStatus, number> = { open: 0, pending: 0, recovered: 0 }
        for (const r of rows) out[r.status] = r.n
        return out
      },
      mapSql("GapsRepo.counts")
    )

    /**
     * Marks one gap recovered (a backfill re-ran its whole session); `records`, when known, raises the stored count.
     * False when no such gap is stored.
     */
    const markRecovered = Effect.fn("GapsRepo.markRecovered")(
      function*(source: string, fromTs: bigint, fromSeen: number, records = 0) {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ source: string }>`UPDATE gaps
          SET status = 'recovered', records = MAX(records, ${records}), updated_at = ${now}
          WHERE source = ${source} AND from_ts = ${fromTs.toString()} AND from_seen = ${fromSeen}
          RETURNING source`
        return rows.length > 0
      },
      mapSql("GapsRepo.markRecovered")
    )

    return { put, list, counts, markRecovered } as const
  })
}) {}
