/**
 * Closed 5-minute pressure windows in the `windows` table: idempotent batched upserts, reads by day, by strike
 * and by range (paged, for exports of any size), and the per-strike rollup across expirations.
 */
import { SqlClient } from "@effect/sql"
import { Chunk, Clock, Effect, Option, Stream } from "effect"
import type { DominantSide, OptionType, PressureWindow } from "../flow/PressureWindow.js"
import { BulkInsert } from "./BulkInsert.js"
import { mapSql, mapSqlStream, StoreError } from "./StoreError.js"

/** One row of `windows` (the upsert binds the same values in `INSERT_COLUMNS` order). */
export type WindowRow = {
  /** ms since epoch, UTC, a multiple of 300 000. */
  readonly window_start: number
  /** YYYY-MM-DD. */
  readonly expiration: string
  readonly strike: number
  readonly option_type: OptionType
  readonly bid_volume: number
  readonly ask_volume: number
  readonly unknown_volume: number
  readonly pressure_ratio: number | null
  readonly total_trades: number
  readonly avg_trade_size: number
  readonly dominant_side: DominantSide
  readonly trades_aggressor: number
  readonly trades_quote: number
  readonly trades_tick: number
  readonly trades_none: number
  readonly premium: number
  readonly max_trade_size: number
  /** Wall time of the last change, ms since epoch. */
  readonly updated_at: number
}

/** A window summed across expirations: one per (window start, strike, option type). */
export type StrikeWindow = Omit<PressureWindow, "expiration"> & {
  /** How many expirations contributed. */
  readonly expirations: number
}

/** Window-start range, ms since epoch: `from` inclusive, `to` exclusive; either may be left open. */
export type Range = { readonly from?: number | undefined; readonly to?: number | undefined }

export type UpsertResult = {
  /** Rows inserted or changed; a row identical to the stored one counts as neither. */
  readonly changed: number
  /** Rows dropped because their day was already rolled into `daily_summaries` by retention. */
  readonly skipped: number
}

export const DAY_MS = 86_400_000
const COLUMNS = 18
/** Rows per page of `stream`. */
export const PAGE_SIZE = 5_000

const SELECT_COLUMNS = "window_start, expiration, strike, option_type, bid_volume, ask_volume, unknown_volume, " +
  "pressure_ratio, total_trades, avg_trade_size, dominant_side, trades_aggressor, trades_quote, trades_tick, " +
  "trades_none, premium, max_trade_size"

/** The columns of `WindowRow` in the order `putParams` binds them. */
const INSERT_COLUMNS = [
  "window_start", "expiration", "strike", "option_type", "bid_volume", "ask_volume", "unknown_volume",
  "pressure_ratio", "total_trades", "avg_trade_size", "dominant_side", "trades_aggressor", "trades_quote",
  "trades_tick", "trades_none", "premium", "max_trade_size", "updated_at"
] as const satisfies ReadonlyArray<keyof WindowRow>
if (INSERT_COLUMNS.length !== COLUMNS) throw new Error("INSERT_COLUMNS does not match WindowRow")

/** Puts one `WindowRow`'s values from `out[k]` on in `INSERT_COLUMNS` order, no row object; returns the end. */
const putParams = (out: Array<unknown>, k: number, w: PressureWindow, updatedAt: number): number => {
  out[k++] = w.windowStart
  out[k++] = w.expiration
  out[k++] = w.strike
  out[k++] = w.optionType
  out[k++] = w.bidVolume
  out[k++] = w.askVolume
  out[k++] = w.unknownVolume
  out[k++] = w.pressureRatio
  out[k++] = w.totalTrades
  out[k++] = w.avgTradeSize
  out[k++] = w.dominantSide
  out[k++] = w.tradesAggressor
  out[k++] = w.tradesQuote
  out[k++] = w.tradesTick
  out[k++] = w.tradesNone
  out[k++] = w.premium
  out[k++] = w.maxTradeSize
  out[k++] = updatedAt
  return k
}

export const fromRow = (r: Omit<WindowRow, "updated_at">): PressureWindow => ({
  windowStart: r.window_start,
  expiration: r.expiration,
  strike: r.strike,
  optionType: r.option_type,
  bidVolume: r.bid_volume,
  askVolume: r.ask_volume,
  unknownVolume: r.unknown_volume,
  pressureRatio: r.pressure_ratio,
  totalTrades: r.total_trades,
  avgTradeSize: r.avg_trade_size,
  dominantSide: r.dominant_side,
  tradesAggressor: r.trades_aggressor,
  tradesQuote: r.trades_quote,
  tradesTick: r.trades_tick,
  tradesNone: r.trades_none,
  premium: r.premium,
  maxTradeSize: r.max_trade_size
})

/** BUY when more volume lifted the ask than hit the bid, SELL for the reverse, NEUTRAL on a tie. */
export const dominantSide = (bidVolume: number, askVolume: number): DominantSide =>
  askVolume > bidVolume ? "BUY" : bidVolume > askVolume ? "SELL" : "NEUTRAL"

/** [start, end) ms of a UTC day "YYYY-MM-DD", or undefined when it is not a real date. */
export const dayRange = (day: string): readonly [number, number] | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined
  const start = Date.parse(`${day}T00:00:00Z`)
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== day) return undefined
  return [start, start + DAY_MS]
}

const bounds = (sql: SqlClient.SqlClient, range: Range) =>
  sql.and([
    ...(range.from === undefined ? [] : [sql`window_start >= ${range.from}`]),
    ...(range.to === undefined ? [] : [sql`window_start < ${range.to}`])
  ])

/** The read statements, exported so tests can check their query plans. */
export const statements = {
  byDay: (sql: SqlClient.SqlClient, start: number, end: number) =>
    sql<WindowRow>`SELECT ${sql.literal(SELECT_COLUMNS)} FROM windows
      WHERE window_start >= ${start} AND window_start < ${end}
      ORDER BY window_start, expiration, strike, option_type`,
  recent: (sql: SqlClient.SqlClient, strike: number, optionType: OptionType, limit: number) =>
    sql<WindowRow>`SELECT ${sql.literal(SELECT_COLUMNS)} FROM windows
      WHERE strike = ${strike} AND option_type = ${optionType}
      ORDER BY window_start DESC LIMIT ${limit}`,
  /** One page in primary-key order after the key `after`: keyset paging, each page an index range, not an OFFSET. */
  page: (sql: SqlClient.SqlClient, range: Range, after: WindowRow | undefined, limit: number) =>
    sql<WindowRow>`SELECT ${sql.literal(SELECT_COLUMNS)} FROM windows
      WHERE ${
      sql.and([
        bounds(sql, range),
        ...(after === undefined ? [] : [
          sql`(window_start, expiration, strike, option_type)
            > (${after.window_start}, ${after.expiration}, ${after.strike}, ${after.option_type})`
        ])
      ])
    }
      ORDER BY window_start, expiration, strike, option_type LIMIT ${limit}`,
  rollup: (sql: SqlClient.SqlClient, range: Range) =>
    sql<RollupRow>`SELECT window_start, strike, option_type,
        SUM(bid_volume) AS bid_volume, SUM(ask_volume) AS ask_volume, SUM(unknown_volume) AS unknown_volume,
        SUM(total_trades) AS total_trades, SUM(trades_aggressor) AS trades_aggressor, SUM(trades_quote) AS trades_quote,
        SUM(trades_tick) AS trades_tick, SUM(trades_none) AS trades_none, SUM(premium) AS premium,
        MAX(max_trade_size) AS max_trade_size, COUNT(*) AS expirations
      FROM windows WHERE ${bounds(sql, range)}
      GROUP BY window_start, strike, option_type
      ORDER BY window_start, strike, option_type`,
  /** The earliest and latest window start in a range. */
  span: (sql: SqlClient.SqlClient, range: Range) =>
    sql<{ lo: number | null; hi: number | null }>`SELECT MIN(window_start) AS lo, MAX(window_start) AS hi
      FROM windows WHERE ${bounds(sql, range)}`
}

type RollupRow = {
  readonly window_start: number
  readonly strike: number
  readonly option_type: OptionType
  readonly bid_volume: number
  readonly ask_volume: number
  readonly unknown_volume: number
  readonly total_trades: number
  readonly trades_aggressor: number
  readonly trades_quote: number
  readonly trades_tick: number
  readonly trades_none: number
  readonly premium: number
  readonly max_trade_size: number
  readonly expirations: number
}

const fromRollupRow = (r: RollupRow): StrikeWindow => {
  const volume = r.bid_volume + r.ask_volume + r.unknown_volume
  return {
    windowStart: r.window_start,
    strike: r.strike,
    optionType: r.option_type,
    bidVolume: r.bid_volume,
    askVolume: r.ask_volume,
    unknownVolume: r.unknown_volume,
    pressureRatio: r.bid_volume === 0 ? null : r.ask_volume / r.bid_volume,
    totalTrades: r.total_trades,
    avgTradeSize: r.total_trades === 0 ? 0 : volume / r.total_trades,
    dominantSide: dominantSide(r.bid_volume, r.ask_volume),
    tradesAggressor: r.trades_aggressor,
    tradesQuote: r.trades_quote,
    tradesTick: r.trades_tick,
    tradesNone: r.trades_none,
    premium: r.premium,
    maxTradeSize: r.max_trade_size,
    expirations: r.expirations
  }
}

export class WindowsRepo extends Effect.Service<WindowsRepo>()("ifd/store/WindowsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    // The WHERE skips rows identical to the stored one: rewriting them would only move updated_at, and a replay
    // must leave the table unchanged.
    const upsertStatement = new BulkInsert(
      `INSERT INTO windows (${INSERT_COLUMNS.join(", ")})`,
      INSERT_COLUMNS.length,
      `ON CONFLICT (window_start, expiration, strike, option_type) DO UPDATE SET
          bid_volume = excluded.bid_volume, ask_volume = excluded.ask_volume,
          unknown_volume = excluded.unknown_volume, pressure_ratio = excluded.pressure_ratio,
          total_trades = excluded.total_trades, avg_trade_size = excluded.avg_trade_size,
          dominant_side = excluded.dominant_side, trades_aggressor = excluded.trades_aggressor,
          trades_quote = excluded.trades_quote, trades_tick = excluded.trades_tick, trades_none = excluded.trades_none,
          premium = excluded.premium, max_trade_size = excluded.max_trade_size, updated_at = excluded.updated_at
        WHERE (bid_volume, ask_volume, unknown_volume, pressure_ratio, total_trades, avg_trade_size, dominant_side,
               trades_aggressor, trades_quote, trades_tick, trades_none, premium, max_trade_size)
          IS NOT (excluded.bid_volume, excluded.ask_volume, excluded.unknown_volume, excluded.pressure_ratio,
               excluded.total_trades, excluded.avg_trade_size, excluded.dominant_side, excluded.trades_aggressor,
               excluded.trades_quote, excluded.trades_tick, excluded.trades_none, excluded.premium,
               excluded.max_trade_size)`
    )

    // Days at or before the last summarised day are closed: retention already added their windows to
    // daily_summaries, so storing one again would count it twice at the next prune.
    const closedBefore = Effect.map(
      sql<{ day: string | null }>`SELECT MAX(day) AS day FROM daily_summaries`,
      (rows) => {
        const day = rows[0]?.day
        return day == null ? -Infinity : (dayRange(day)?.[1] ?? -Infinity)
      }
    )

    const upsert = Effect.fn("WindowsRepo.upsert")(
      function*(windows: ReadonlyArray<PressureWindow>) {
        if (windows.length === 0) return { changed: 0, skipped: 0 } satisfies UpsertResult
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(Effect.gen(function*() {
          const closed = yield* closedBefore
          const open = closed === -Infinity ? windows : windows.filter((w) => w.windowStart >= closed)
          const changed = yield* upsertStatement.run(sql, open, (out, k, w) => putParams(out, k, w, now))
          return { changed, skipped: windows.length - open.length } satisfies UpsertResult
        }))
      },
      mapSql("WindowsRepo.upsert")
    )

    const byDay = Effect.fn("WindowsRepo.byDay")(
      function*(day: string) {
        const range = dayRange(day)
        if (range === undefined) {
          return yield* new StoreError({
            reason: "Input",
            operation: "WindowsRepo.byDay",
            detail: "day must be an existing date, YYYY-MM-DD"
          })
        }
        const rows = yield* statements.byDay(sql, range[0], range[1])
        return rows.map(fromRow)
      },
      mapSql("WindowsRepo.byDay")
    )

    const recent = Effect.fn("WindowsRepo.recent")(
      function*(options: { readonly strike: number; readonly optionType: OptionType; readonly limit: number }) {
        const rows = yield* statements.recent(sql, options.strike, options.optionType, Math.max(0, options.limit))
        return rows.map(fromRow)
      },
      mapSql("WindowsRepo.recent")
    )

    /** Every window in the range, in primary-key order, read one page at a time; each page is one chunk. */
    const stream = (range: Range = {}, pageSize: number = PAGE_SIZE): Stream.Stream<PressureWindow, StoreError> => {
      const limit = Math.max(1, Math.floor(pageSize))
      return Stream.paginateChunkEffect(
        undefined as WindowRow | undefined,
        (after) =>
          Effect.map(statements.page(sql, range, after, limit), (rows) => {
            const last = rows.length < limit ? undefined : rows[rows.length - 1]
            return [
              Chunk.unsafeFromArray(rows.map(fromRow)),
              last === undefined ? Option.none() : Option.some(last)
            ] as const
          })
      ).pipe(mapSqlStream("WindowsRepo.stream"), Stream.withSpan("WindowsRepo.stream"))
    }

    /** Every window in the range as one array: for bounded ranges; exports use `stream`. */
    const all = Effect.fn("WindowsRepo.all")(function*(range: Range = {}) {
      const chunk = yield* Stream.runCollect(stream(range))
      return Chunk.toReadonlyArray(chunk)
    })

    /** The rollup one UTC day at a time, so memory holds one day of it; each day is one chunk. */
    const streamRollupByStrike = (range: Range = {}): Stream.Stream<StrikeWindow, StoreError> =>
      Stream.unwrap(Effect.map(statements.span(sql, range), (rows) => {
        const lo = rows[0]?.lo
        const hi = rows[0]?.hi
        if (lo == null || hi == null) return Stream.empty
        const first = Math.floor(lo / DAY_MS) * DAY_MS
        return Stream.paginateChunkEffect(first, (dayStart) =>
          Effect.map(
            statements.rollup(sql, {
              from: Math.max(dayStart, range.from ?? dayStart),
              to: Math.min(dayStart + DAY_MS, range.to ?? Infinity)
            }),
            (rows) =>
              [
                Chunk.unsafeFromArray(rows.map(fromRollupRow)),
                dayStart + DAY_MS > hi ? Option.none() : Option.some(dayStart + DAY_MS)
              ] as const
          ))
      })).pipe(mapSqlStream("WindowsRepo.rollupByStrike"), Stream.withSpan("WindowsRepo.streamRollupByStrike"))

    /** Windows summed across expirations per (window start, strike, option type), ratio/avg/side recomputed. */
    const rollupByStrike = Effect.fn("WindowsRepo.rollupByStrike")(
      function*(range: Range = {}) {
        const rows = yield* statements.rollup(sql, range)
        return rows.map(fromRollupRow)
      },
      mapSql("WindowsRepo.rollupByStrike")
    )

    const count = Effect.fn("WindowsRepo.count")(
      function*() {
        const rows = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM windows`
        return rows[0]?.n ?? 0
      },
      mapSql("WindowsRepo.count")
    )

    return { upsert, byDay, recent, stream, all, rollupByStrike, streamRollupByStrike, count } as const
  })
}) {}
