/**
 * Historical baselines: robust statistics (median and MAD) of a window's log pressure ratio, log volume, trade
 * count and trade size per option type × moneyness bucket × time-of-day bucket × tenor, over the last N trading
 * days strictly before the day scored (so a window is never part of its own baseline). Pure TS.
 */
import * as Calendar from "../gate/Calendar.js"
import type { OptionType } from "./PressureWindow.js"

/** What one closed window contributes to the history. */
export interface Observation {
  /** Trading day, YYYY-MM-DD (New York). */
  readonly day: string
  readonly key: string
  /** ln((ask + 1) / (bid + 1)): finite even when one side is empty. */
  readonly logRatio: number
  /** ln(volume). */
  readonly logVolume: number
  readonly trades: number
  readonly avgSize: number
}

/** Median and MAD (unscaled) of one metric. */
export interface Robust {
  readonly median: number
  readonly mad: number
}

export interface KeyStats {
  readonly key: string
  /** Windows in the baseline. */
  readonly n: number
  /** Distinct trading days they came from. */
  readonly days: number
  readonly logRatio: Robust
  readonly logVolume: Robust
  readonly trades: Robust
  readonly avgSize: Robust
}

/** The baselines in force for one trading day. */
export interface Table {
  /** The day they score. */
  readonly day: string
  /** The trading days they were computed from, oldest first (all before `day`). */
  readonly from: ReadonlyArray<string>
  readonly stats: ReadonlyMap<string, KeyStats>
}

export type Tenor = "0-2d" | "3-9d" | "10d+"

export const tenorOf = (windowStart: number, expiration: string): Tenor => {
  let at = expirationMs.get(expiration)
  if (at === undefined) {
    at = Date.parse(`${expiration}T00:00:00Z`)
    // A chain has a handful of expirations; the bound only guards against a stream of odd ones.
    if (expirationMs.size >= MEMO_LIMIT) expirationMs.clear()
    expirationMs.set(expiration, at)
  }
  const days = (at - windowStart) / 86_400_000
  return days < 2 ? "0-2d" : days < 9 ? "3-9d" : "10d+"
}

const TENORS: ReadonlyArray<Tenor> = ["0-2d", "3-9d", "10d+"]
/** Entries per memo below; past it a memo starts over (the key space is a few thousand). */
const MEMO_LIMIT = 65_536
const expirationMs = new Map<string, number>()

/** Minutes per time-of-day bucket. */
export const TOD_MINUTES = 30

/** The baseline key of a window: `C|+2|10:00|0-2d` (type, moneyness bucket, New York half hour, tenor). */
export const keyOf = (optionType: OptionType, bucket: number, windowStart: number, tenor: Tenor): string => {
  const m = newYork(windowStart).minutes
  const tod = Math.floor(m / TOD_MINUTES) * TOD_MINUTES
  // Every closed window needs its key: the few thousand distinct ones are built once, then found by a number.
  const t = TENORS.indexOf(tenor)
  const memo = t >= 0 && Number.isInteger(bucket) && bucket >= -2048 && bucket < 2048
  const code = (((optionType === "C" ? 0 : 1) * 4096 + (bucket + 2048)) * 1440 + tod) * 3 + t
  let key = memo ? keys.get(code) : undefined
  if (key === undefined) {
    const hh = String(Math.floor(tod / 60)).padStart(2, "0")
    const mm = String(tod % 60).padStart(2, "0")
    key = `${optionType}|${bucket >= 0 ? "+" : ""}${bucket}|${hh}:${mm}|${tenor}`
    if (!memo) return key
    if (keys.size >= MEMO_LIMIT) keys.clear()
    keys.set(code, key)
  }
  return key
}

const keys = new Map<number, string>()

/** The coarser key used when a key has too little history: the same without the time of day. */
export const coarseKeyOf = (key: string): string => {
  let c = coarseKeys.get(key)
  if (c === undefined) {
    const [t, b, , tenor] = key.split("|")
    c = `${t}|${b}|*|${tenor}`
    if (coarseKeys.size >= MEMO_LIMIT) coarseKeys.clear()
    coarseKeys.set(key, c)
  }
  return c
}

const coarseKeys = new Map<string, string>()

/** New York trading day and minutes after midnight of a UTC ms time (the time zone from `Intl`, via gate/Calendar). */
export const newYork = (ms: number): { readonly day: string; readonly minutes: number } => {
  // Windows closing together share their start: one entry of memory spares the time-zone work for all but the first.
  if (ms === lastNewYorkMs) return lastNewYork
  const wall = Calendar.wallAt(ms)
  lastNewYork = { day: Calendar.isoDate(wall.day), minutes: Math.floor(wall.millisOfDay / 60_000) }
  lastNewYorkMs = ms
  return lastNewYork
}

let lastNewYorkMs = NaN
let lastNewYork: { readonly day: string; readonly minutes: number } = { day: "", minutes: 0 }

export const robust = (xs: ArrayLike<number>): Robust => robustOf(Float64Array.from(xs), 0, xs.length)

/**
 * Median and MAD of `v[from, from + n)`, which it reorders: two selections (the median, then the median of the
 * distances from it, written over the values) in linear time. A day's table takes them over 20 days of every key's
 * values, millions in all; sorting each key's values cost ~2× as much. (No NaN reaches here: every observation is a
 * finite number.)
 */
const robustOf = (v: Float64Array, from: number, n: number): Robust => {
  if (n === 0) return { median: NaN, mad: NaN }
  const median = middle(v, from, n)
  for (let i = from; i < from + n; i++) v[i] = Math.abs(v[i]! - median)
  return { median, mad: middle(v, from, n) }
}

/** The median of `v[from, from + n)` (the mean of the two middle values for an even count), reordering it. */
const middle = (v: Float64Array, from: number, n: number): number => {
  const k = from + (n >> 1)
  const hi = select(v, from, from + n - 1, k)
  if (n % 2 === 1) return hi
  // After the selection the values before index k are the smaller half: the largest of them is the other middle.
  let lo = v[from]!
  for (let i = from + 1; i < k; i++) if (v[i]! > lo) lo = v[i]!
  return (lo + hi) / 2
}

/**
 * The value that belongs at index `k` of `v[lo, hi]` sorted, left there with no larger value before it and no
 * smaller after (Hoare partitioning around a median of three: runs of equal values, common here, split evenly
 * instead of degrading to quadratic time).
 */
const select = (v: Float64Array, lo: number, hi: number, k: number): number => {
  while (hi > lo) {
    if (hi - lo < 16) {
      // insertion sort of a short range
      for (let i = lo + 1; i <= hi; i++) {
        const x = v[i]!
        let j = i - 1
        while (j >= lo && v[j]! > x) {
          v[j + 1] = v[j]!
          j--
        }
        v[j + 1] = x
      }
      break
    }
    // The median of the first, middle and last values: it is in the range, so both scans below stop inside it.
    const a = v[lo]!
    const b = v[(lo + hi) >>> 1]!
    const c = v[hi]!
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b)
    let i = lo - 1
    let j = hi + 1
    for (;;) {
      do i++
      while (v[i]! < pivot)
      do j--
      while (v[j]! > pivot)
      if (i >= j) break
      const t = v[i]!
      v[i] = v[j]!
      v[j] = t
    }
    // [lo, j] ≤ pivot ≤ [j + 1, hi]
    if (k <= j) hi = j
    else lo = j + 1
  }
  return v[k]!
}

/**
 * One day's observations of one key (fine or coarse), four numbers each (log ratio, log volume, trades, average
 * size) one after the other in one array: a table gathers a key's days in one sequential pass each, where four
 * arrays per key and day cost four passes and four times the cache misses.
 */
class Columns {
  /** Observations held. */
  n = 0
  readonly data: Array<number> = []

  push(logRatio: number, logVolume: number, trades: number, avgSize: number): void {
    this.data.push(logRatio, logVolume, trades, avgSize)
    this.n++
  }
}

/** Appends an observation's values to the columns of key `k`. */
const put = (
  groups: Map<string, Columns>,
  k: string,
  logRatio: number,
  logVolume: number,
  trades: number,
  avgSize: number
): void => {
  let g = groups.get(k)
  if (g === undefined) groups.set(k, g = new Columns())
  g.push(logRatio, logVolume, trades, avgSize)
}

/** The statistics of a key from its columns of several days (`n` observations in all). */
const statsOf = (key: string, parts: ReadonlyArray<Columns>, n: number): KeyStats => {
  // One scratch array for every key of every table, a metric per quarter: a few thousand keys a table each
  // allocating four typed arrays cost more than the copying.
  if (scratch.length < 4 * n) scratch = new Float64Array(Math.max(4 * n, 2 * scratch.length))
  const v = scratch
  let at = 0
  for (const p of parts) {
    const d = p.data
    const end = p.n * 4
    for (let i = 0; i < end; i += 4) {
      v[at] = d[i]!
      v[n + at] = d[i + 1]!
      v[2 * n + at] = d[i + 2]!
      v[3 * n + at++] = d[i + 3]!
    }
  }
  return {
    key,
    n,
    // Each day's groups hold a key at most once.
    days: parts.length,
    logRatio: robustOf(v, 0, n),
    logVolume: robustOf(v, n, n),
    trades: robustOf(v, 2 * n, n),
    avgSize: robustOf(v, 3 * n, n)
  }
}

let scratch = new Float64Array(4096)

/** The table of `day` from the grouped observations of each of its `from` days. */
const fromDays = (day: string, from: ReadonlyArray<string>, days: ReadonlyArray<Map<string, Columns>>): Table => {
  const byKey = new Map<string, Array<Columns>>()
  for (const groups of days) {
    for (const [key, c] of groups) {
      const parts = byKey.get(key)
      if (parts === undefined) byKey.set(key, [c])
      else parts.push(c)
    }
  }
  const stats = new Map<string, KeyStats>()
  for (const [key, parts] of byKey) {
    let n = 0
    for (const p of parts) n += p.n
    stats.set(key, statsOf(key, parts, n))
  }
  return { day, from, stats }
}

/** Computes the statistics of every key (and its coarse time-of-day-free key) from observations (of any days). */
export const compute = (day: string, from: ReadonlyArray<string>, obs: Iterable<Observation>): Table => {
  const history = new History()
  for (const o of obs) history.add(o)
  return history.tableOf(day, from, history.days)
}

/**
 * Observations by trading day, kept grouped by key as columns (no observation object is retained); hands out the
 * baseline of a day from the N trading days before it. A day's groups take part in 20 tables: grouped once, as
 * observations arrive, each table only merges the days' columns.
 */
export class History {
  private readonly byDay = new Map<string, Map<string, Columns>>()

  add(o: Observation): void {
    this.addValues(o.day, o.key, o.logRatio, o.logVolume, o.trades, o.avgSize)
  }

  /** `add` without an observation object (the scorer adds one per closed window). */
  addValues(day: string, key: string, logRatio: number, logVolume: number, trades: number, avgSize: number): void {
    let groups = this.byDay.get(day)
    if (groups === undefined) this.byDay.set(day, groups = new Map())
    put(groups, key, logRatio, logVolume, trades, avgSize)
    put(groups, coarseKeyOf(key), logRatio, logVolume, trades, avgSize)
  }

  /** Trading days held (days with at least one window), oldest first. */
  get days(): Array<string> {
    return [...this.byDay.keys()].sort()
  }

  /** The baseline for `day` from the `days` trading days strictly before it (fewer if the history is shorter). */
  tableFor(day: string, days = 20): Table {
    const from = this.days.filter((d) => d < day).slice(-days)
    return this.tableOf(day, from, from)
  }

  /** The table of `day`, labelled as computed `from` those days, over the held days `use`. */
  tableOf(day: string, from: ReadonlyArray<string>, use: ReadonlyArray<string>): Table {
    return fromDays(day, from, use.map((d) => this.byDay.get(d)!))
  }

  /** Forgets days older than the newest `keep`. */
  trim(keep: number): void {
    const days = this.days
    for (const d of days.slice(0, Math.max(0, days.length - keep))) this.byDay.delete(d)
  }
}
