/**
 * The cost ledger in SQLite (`cost_ledger`, migration `store/migrations/0002_cost_ledger.ts`): appends what was spent and sums it by
 * trade date or month, so a restart on the same day continues from what was already spent.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { mapSql, StoreError } from "../store/StoreError.js"

export type LedgerKind = "live" | "historical"

export interface LedgerEntry {
  /** CME trade date, `YYYY-MM-DD`. */
  readonly tradeDate: string
  readonly kind: LedgerKind
  /** DBN bytes received (live); 0 for a historical request, which is priced by Databento. */
  readonly bytes: number
  /** USD charged. */
  readonly usd: number
  /** Safe text only, e.g. the historical query (never a key). */
  readonly detail?: string | undefined
  /** Epoch ms. */
  readonly recordedAt: number
}

export interface Totals {
  readonly liveBytes: number
  readonly liveUsd: number
  readonly historicalUsd: number
  /** liveUsd + historicalUsd. */
  readonly usd: number
}

export interface DayTotals extends Totals {
  readonly tradeDate: string
}

export const zero: Totals = { liveBytes: 0, liveUsd: 0, historicalUsd: 0, usd: 0 }

type LedgerRow = {
  readonly trade_date: string
  readonly kind: LedgerKind
  readonly bytes: number
  readonly usd: number
  readonly detail: string | null
  readonly recorded_at: number
}

type TotalsRow = {
  readonly trade_date: string
  readonly live_bytes: number | null
  readonly live_usd: number | null
  readonly historical_usd: number | null
}

const toTotals = (r: TotalsRow | undefined): Totals => {
  const liveBytes = r?.live_bytes ?? 0
  const liveUsd = r?.live_usd ?? 0
  const historicalUsd = r?.historical_usd ?? 0
  return { liveBytes, liveUsd, historicalUsd, usd: liveUsd + historicalUsd }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const MONTH = /^\d{4}-\d{2}$/

const badInput = (operation: string, detail: string) =>
  Effect.fail(new StoreError({ reason: "Input", operation, detail }))

export class LedgerRepo extends Effect.Service<LedgerRepo>()("ifd/gate/LedgerRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Appends entries in one transaction. */
    const append = Effect.fn("LedgerRepo.append")(
      function*(entries: ReadonlyArray<LedgerEntry>) {
        if (entries.length === 0) return
        const rows: Array<LedgerRow> = entries.map((e) => ({
          trade_date: e.tradeDate,
          kind: e.kind,
          bytes: e.bytes,
          usd: e.usd,
          detail: e.detail ?? null,
          recorded_at: e.recordedAt
        }))
        yield* sql.withTransaction(sql`INSERT INTO cost_ledger ${sql.insert(rows)}`)
      },
      mapSql("LedgerRepo.append")
    )

    const sums = (from: string, to: string) =>
      sql<TotalsRow>`SELECT ${from} AS trade_date,
          SUM(CASE WHEN kind = 'live' THEN bytes END) AS live_bytes,
          SUM(CASE WHEN kind = 'live' THEN usd END) AS live_usd,
          SUM(CASE WHEN kind = 'historical' THEN usd END) AS historical_usd
        FROM cost_ledger WHERE trade_date BETWEEN ${from} AND ${to}`

    /** What was spent on one trade date (`YYYY-MM-DD`). */
    const day = Effect.fn("LedgerRepo.day")(
      function*(tradeDate: string) {
        if (!DATE.test(tradeDate)) return yield* badInput("LedgerRepo.day", `not a date: ${tradeDate}`)
        return toTotals((yield* sums(tradeDate, tradeDate))[0])
      },
      mapSql("LedgerRepo.day")
    )

    /** What was spent over the trade dates of a month (`YYYY-MM`). */
    const month = Effect.fn("LedgerRepo.month")(
      function*(month: string) {
        if (!MONTH.test(month)) return yield* badInput("LedgerRepo.month", `not a month: ${month}`)
        return toTotals((yield* sums(`${month}-01`, `${month}-31`))[0])
      },
      mapSql("LedgerRepo.month")
    )

    /** Per trade date from `from` to `to` (inclusive), dates with spending only, in date order. */
    const days = Effect.fn("LedgerRepo.days")(
      function*(from: string, to: string) {
        if (!DATE.test(from) || !DATE.test(to)) {
          return yield* badInput("LedgerRepo.days", `not a date range: ${from}..${to}`)
        }
        const rows = yield* sql<TotalsRow>`SELECT trade_date,
            SUM(CASE WHEN kind = 'live' THEN bytes END) AS live_bytes,
            SUM(CASE WHEN kind = 'live' THEN usd END) AS live_usd,
            SUM(CASE WHEN kind = 'historical' THEN usd END) AS historical_usd
          FROM cost_ledger WHERE trade_date BETWEEN ${from} AND ${to}
          GROUP BY trade_date ORDER BY trade_date`
        return rows.map((r): DayTotals => ({ tradeDate: r.trade_date, ...toTotals(r) }))
      },
      mapSql("LedgerRepo.days")
    )

    return { append, day, month, days } as const
  })
}) {}
