/**
 * Measured windows and their signals in `signals`: batched idempotent upserts (with the latency from the closing
 * record's arrival to the write), the observations the baseline job learns from, and paged reads for exports.
 */
import { SqlClient } from "@effect/sql"
import { Chunk, Clock, Effect, Option, Stream } from "effect"
import type { Observation } from "../flow/Baselines.js"
import type { WindowSignal } from "../flow/Signals.js"
import * as Calendar from "../gate/Calendar.js"
import { BulkInsert } from "./BulkInsert.js"
import { mapSql, mapSqlStream, StoreError } from "./StoreError.js"

/** One row of `signals` (the insert binds the same values in `INSERT_COLUMNS` order). */
export type SignalRow = {
  readonly window_start: number
  readonly expiration: string
  readonly strike: number
  readonly option_type: "C" | "P"
  readonly day: string
  readonly underlying: number | null
  readonly underlying_method: "future" | "parity" | null
  readonly otm: number | null
  readonly baseline_key: string | null
  readonly active: number
  readonly buy_volume: number
  readonly sell_volume: number
  readonly unknown_volume: number
  readonly trades: number
  readonly avg_size: number
  readonly log_ratio: number
  readonly call_put_premium_ratio: number | null
  readonly mm_balance: number
  readonly straddle: number
  readonly sweeps: number
  readonly sweep_volume: number
  readonly sweep_net: number
  readonly large_prints: number
  readonly large_volume: number
  readonly large_net: number
  readonly buy_premium: number
  readonly sell_premium: number
  readonly baseline_n: number
  readonly low_sample: number
  readonly z_volume: number | null
  readonly z_ratio: number | null
  readonly z_trades: number | null
  readonly z_size: number | null
  readonly direction: "BUY" | "SELL" | null
  readonly bias: "BULLISH" | "BEARISH" | null
  readonly score: number | null
  readonly confidence: number | null
  readonly tier: "low" | "medium" | "high" | "critical" | null
  readonly reported: number
  /** ms from the arrival of the chunk that closed the window to the write (null when not measured). */
  readonly latency_ms: number | null
  /** Wall time of the write, ms since epoch. */
  readonly stored_at: number
}

const COLUMNS = 41
export const PAGE_SIZE = 5_000

/** The signals of one chunk's closed windows and the wall ms that chunk arrived (undefined: no latency kept). */
export interface SignalBatch {
  readonly signals: ReadonlyArray<WindowSignal>
  readonly receivedAt: number | undefined
}

/** The columns of `SignalRow` in the order `putParams` binds them. */
const INSERT_COLUMNS = [
  "window_start", "expiration", "strike", "option_type", "day", "underlying", "underlying_method", "otm",
  "baseline_key", "active", "buy_volume", "sell_volume", "unknown_volume", "trades", "avg_size", "log_ratio",
  "call_put_premium_ratio", "mm_balance", "straddle", "sweeps", "sweep_volume", "sweep_net", "large_prints",
  "large_volume", "large_net", "buy_premium", "sell_premium", "baseline_n", "low_sample", "z_volume", "z_ratio",
  "z_trades", "z_size", "direction", "bias", "score", "confidence", "tier", "reported", "latency_ms", "stored_at"
] as const satisfies ReadonlyArray<keyof SignalRow>
if (INSERT_COLUMNS.length !== COLUMNS) throw new Error("INSERT_COLUMNS does not match SignalRow")

/** Puts one `SignalRow`'s values from `out[k]` on in `INSERT_COLUMNS` order, no row object; returns the end. */
const putParams = (
  out: Array<unknown>,
  k: number,
  s: WindowSignal,
  latencyMs: number | null,
  storedAt: number
): number => {
  out[k++] = s.windowStart
  out[k++] = s.expiration
  out[k++] = s.strike
  out[k++] = s.optionType
  out[k++] = s.day
  out[k++] = s.underlying
  out[k++] = s.underlyingMethod
  out[k++] = s.otm
  out[k++] = s.key
  out[k++] = s.active ? 1 : 0
  out[k++] = s.buyVolume
  out[k++] = s.sellVolume
  out[k++] = s.unknownVolume
  out[k++] = s.trades
  out[k++] = s.avgSize
  out[k++] = s.logRatio
  out[k++] = s.callPutPremiumRatio
  out[k++] = s.mmBalance
  out[k++] = s.straddle
  out[k++] = s.sweeps
  out[k++] = s.sweepVolume
  out[k++] = s.sweepNet
  out[k++] = s.largePrints
  out[k++] = s.largeVolume
  out[k++] = s.largeNet
  out[k++] = s.buyPremium
  out[k++] = s.sellPremium
  out[k++] = s.baselineN
  out[k++] = s.lowSample ? 1 : 0
  out[k++] = s.zVolume
  out[k++] = s.zRatio
  out[k++] = s.zTrades
  out[k++] = s.zSize
  out[k++] = s.direction
  out[k++] = s.bias
  out[k++] = s.score
  out[k++] = s.confidence
  out[k++] = s.tier
  out[k++] = s.reported ? 1 : 0
  out[k++] = latencyMs
  out[k++] = storedAt
  return k
}

// `day` is the New York date of `window_start`, so a day (or a run of days, or a month) is a range of the primary
// key's first column: the statements below seek that range instead of needing an index on `day`.

/** UTC ms of New York midnight at the start of `d`. */
const nyMidnight = (d: Calendar.Day): number => Calendar.instantAt(d, 0)

/**
 * `[start, end)` ms of the trade dates that start with `prefix` (a day or a month); undefined otherwise. A trade date
 * begins at `rolloverMinute` New York time on the day before (CME's 18:00: the evening session trades for the next
 * day), or at midnight of the day itself when `rolloverMinute` is 0 (plain New York dates).
 */
export const prefixRange = (prefix: string, rolloverMinute = 0): readonly [start: number, end: number] | undefined => {
  const startOf = (d: Calendar.Day): number =>
    rolloverMinute > 0 ? Calendar.instantAt(d - 1, rolloverMinute) : nyMidnight(d)
  const d = Calendar.parseDate(prefix)
  if (d !== undefined) return [startOf(d), startOf(d + 1)]
  const m = /^(\d{4})-(\d{2})$/.exec(prefix)
  const month = m === null ? 0 : Number(m[2])
  if (month < 1 || month > 12) return undefined
  const year = Number(m![1])
  return [startOf(Calendar.day(year, month, 1)), startOf(Calendar.day(year, month + 1, 1))]
}

/** The first stored window at or after `from` (ms): one primary-key seek. */
export const firstFromStatement = (sql: SqlClient.SqlClient, from: number) =>
  sql<{ window_start: number; day: string }>`SELECT window_start, day FROM signals
    WHERE window_start >= ${from} ORDER BY window_start LIMIT 1`

type ObservationRow = {
  readonly day: string
  readonly baseline_key: string
  readonly log_ratio: number
  readonly volume: number
  readonly trades: number
  readonly avg_size: number
}

/** Observations of `days`, all within `[start, end)` ms; the range drives the primary key, `day IN` keeps it exact. */
export const observationsStatement = (
  sql: SqlClient.SqlClient,
  start: number,
  end: number,
  days: ReadonlyArray<string>
) =>
  sql<ObservationRow>`SELECT day, baseline_key, log_ratio, buy_volume + sell_volume + unknown_volume AS volume,
      trades, avg_size
    FROM signals WHERE window_start >= ${start} AND window_start < ${end} AND ${sql.in("day", days)}
    AND baseline_key IS NOT NULL AND buy_volume + sell_volume + unknown_volume > 0`

/** Reported signals in `[start, end)` ms. Without a `day` filter the partial index alone answers (covering). */
export const reportedInStatement = (sql: SqlClient.SqlClient, start: number, end: number) =>
  sql<{ n: number }>`SELECT COUNT(*) AS n FROM signals
    WHERE reported = 1 AND window_start >= ${start} AND window_start < ${end}`

export const countStatement = (sql: SqlClient.SqlClient, reportedOnly: boolean) =>
  reportedOnly
    ? sql<{ n: number }>`SELECT COUNT(*) AS n FROM signals WHERE reported = 1`
    : sql<{ n: number }>`SELECT COUNT(*) AS n FROM signals`

/** One page of rows after `after` in primary-key order; `reported = 1` lets the partial index serve it. */
export const pageStatement = (sql: SqlClient.SqlClient, reportedOnly: boolean, after: SignalRow | undefined) =>
  sql<SignalRow>`SELECT * FROM signals WHERE ${
    sql.and([
      ...(reportedOnly ? [sql`reported = 1`] : []),
      ...(after === undefined ? [] : [
        sql`(window_start, expiration, strike, option_type)
          > (${after.window_start}, ${after.expiration}, ${after.strike}, ${after.option_type})`
      ])
    ])
  } ORDER BY window_start, expiration, strike, option_type LIMIT ${PAGE_SIZE}`

/** Sorted distinct days grouped into runs of consecutive dates; undefined when one is not a date. */
const dayRuns = (days: ReadonlyArray<string>): Array<Array<Calendar.Day>> | undefined => {
  const parsed: Array<Calendar.Day> = []
  for (const s of new Set(days)) {
    const d = Calendar.parseDate(s)
    if (d === undefined) return undefined
    parsed.push(d)
  }
  parsed.sort((a, b) => a - b)
  const runs: Array<Array<Calendar.Day>> = []
  for (const d of parsed) {
    const run = runs[runs.length - 1]
    if (run !== undefined && run[run.length - 1] === d - 1) run.push(d)
    else runs.push([d])
  }
  return runs
}

export class SignalsRepo extends Effect.Service<SignalsRepo>()("ifd/store/SignalsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const upsertStatement = new BulkInsert(`INSERT OR REPLACE INTO signals (${INSERT_COLUMNS.join(", ")})`, COLUMNS, "")

    /**
     * Stores the signals of closed windows in one transaction (a re-run replaces them). With `receivedAt` (wall ms
     * when the chunk holding the closing record arrived), each row records the latency up to this write.
     */
    const insert = (signals: ReadonlyArray<WindowSignal>, receivedAt?: number) =>
      insertBatches([{ signals, receivedAt }])

    /**
     * `insert` for several chunks' signals at once, each batch with its own arrival time, through one run of
     * multi-row statements. A replay commits about once a second; one run per chunk's few hundred rows meant ~6× as
     * many statements, and on twelve replayed days 0.95 s of inserts where one run per commit takes 0.56 s.
     */
    const insertBatches = Effect.fn("SignalsRepo.insertBatches")(
      function*(batches: ReadonlyArray<SignalBatch>) {
        let n = 0
        for (const b of batches) n += b.signals.length
        if (n === 0) return 0
        const now = yield* Clock.currentTimeMillis
        const rows: Array<WindowSignal> = new Array(n)
        const latencies: Array<number | null> = new Array(n)
        let at = 0
        for (const b of batches) {
          const latency = b.receivedAt === undefined ? null : Math.max(0, now - b.receivedAt)
          for (const s of b.signals) {
            rows[at] = s
            latencies[at++] = latency
          }
        }
        return yield* sql.withTransaction(
          upsertStatement.run(sql, rows, (out, k, s, i) => putParams(out, k, s, latencies[i]!, now))
        )
      },
      mapSql("SignalsRepo.insert")
    )

    /** Trading days with stored windows, oldest first. */
    const days = Effect.fn("SignalsRepo.days")(
      function*() {
        const out: Array<string> = []
        // A skip scan: one primary-key seek per stored day, jumping from a window to the next New York midnight.
        let from = Number.MIN_SAFE_INTEGER
        for (;;) {
          const row = (yield* firstFromStatement(sql, from))[0]
          if (row === undefined) return out
          if (out[out.length - 1] !== row.day) out.push(row.day)
          from = Math.max(row.window_start + 1, nyMidnight(Calendar.wallAt(row.window_start).day + 1))
        }
      },
      mapSql("SignalsRepo.days")
    )

    /** What the windows of the given trading days contribute to the baselines (windows with a baseline key). */
    const observations = Effect.fn("SignalsRepo.observations")(
      function*(days: ReadonlyArray<string>) {
        const runs = dayRuns(days)
        if (runs === undefined) {
          return yield* new StoreError({
            reason: "Input",
            operation: "SignalsRepo.observations",
            detail: "days must be existing dates, YYYY-MM-DD"
          })
        }
        // One range of the primary key per run of consecutive days, oldest first: rows come back in time order.
        const rows: Array<ObservationRow> = []
        for (const run of runs) {
          const start = nyMidnight(run[0]!)
          const end = nyMidnight(run[run.length - 1]! + 1)
          for (const r of yield* observationsStatement(sql, start, end, run.map(Calendar.isoDate))) rows.push(r)
        }
        return rows.map((r): Observation => ({
          day: r.day,
          key: r.baseline_key,
          logRatio: r.log_ratio,
          logVolume: Math.log(r.volume),
          trades: r.trades,
          avgSize: r.avg_size
        }))
      },
      mapSql("SignalsRepo.observations")
    )

    /** Latency of stored signals, ms: count, median and maximum (nulls when none was measured). */
    const latency = Effect.fn("SignalsRepo.latency")(
      function*() {
        const rows = yield* sql<{ latency_ms: number }>`SELECT latency_ms FROM signals
          WHERE latency_ms IS NOT NULL ORDER BY latency_ms`
        const xs = rows.map((r) => r.latency_ms)
        return {
          count: xs.length,
          median: xs.length === 0 ? null : xs[xs.length >> 1]!,
          max: xs.length === 0 ? null : xs[xs.length - 1]!
        }
      },
      mapSql("SignalsRepo.latency")
    )

    /** Stored rows in time order, page by page (reported signals only unless `all`). */
    const stream = (options: { readonly all?: boolean } = {}): Stream.Stream<SignalRow, StoreError> =>
      Stream.paginateChunkEffect(undefined as SignalRow | undefined, (after) =>
        pageStatement(sql, options.all !== true, after).pipe(
          Effect.map((rows) => [
            Chunk.unsafeFromArray(rows),
            rows.length < PAGE_SIZE ? Option.none() : Option.some(rows[rows.length - 1]!)
          ] as const)
        )).pipe(mapSqlStream("SignalsRepo.stream"))

    const count = Effect.fn("SignalsRepo.count")(
      function*(reportedOnly = false) {
        const rows = yield* countStatement(sql, reportedOnly)
        return rows[0]?.n ?? 0
      },
      mapSql("SignalsRepo.count")
    )

    /** Reported signals of the New York days starting with `prefix` (a day "2026-11-24" or a month "2026-11"). */
    /**
     * Reported signals of a trade date or a month of them (`prefix`: `YYYY-MM-DD` or `YYYY-MM`), whose windows start
     * within it; `rolloverMinute` as the budget's, so that signals and spending count over the same hours.
     */
    const reportedIn = Effect.fn("SignalsRepo.reportedIn")(
      function*(prefix: string, rolloverMinute = 0) {
        const range = prefixRange(prefix, rolloverMinute)
        if (range === undefined) {
          return yield* new StoreError({
            reason: "Input",
            operation: "SignalsRepo.reportedIn",
            detail: "prefix must be a day YYYY-MM-DD or a month YYYY-MM"
          })
        }
        const rows = yield* reportedInStatement(sql, range[0], range[1])
        return rows[0]?.n ?? 0
      },
      mapSql("SignalsRepo.reportedIn")
    )

    return { insert, insertBatches, days, observations, latency, stream, count, reportedIn } as const
  })
}) {}
