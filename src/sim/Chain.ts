/**
 * The simulated NQ options chain: which expirations are listed on the trading day (Friday weeklies, end-of-month,
 * quarterly), the strikes around the money, the underlying future, and the instrument ids and raw symbols of each.
 */
import * as Calendar from "./Calendar.js"
import type { Rng } from "./Random.js"

export type ExpiryKind = "weekly" | "monthly" | "quarterly"

export interface Expiry {
  /** 0-based, in date order. */
  readonly index: number
  readonly kind: ExpiryKind
  /** Product code: `NQ` (quarterly), `QNE` (end of month), `QN1`–`QN5` (Friday weeklies, by week of month). */
  readonly asset: string
  /** CME month/year code, e.g. `Z6`. */
  readonly suffix: string
  /** Days since the epoch of the expiration date (New York). */
  readonly day: number
  /** Expiration instant, ns since epoch (UTC). */
  readonly expirationNs: bigint
  /** `YYYY-MM-DD`: the UTC date of `expirationNs` (the pipeline's window key). */
  readonly expiration: string
  /** Databento channel index the expiration's instruments are published on. */
  readonly channel: number
}

export interface OptionInstrument {
  /** 0-based position in `Chain.options` (expiration-major, then strike, then call before put). */
  readonly index: number
  readonly instrumentId: number
  readonly expiry: Expiry
  /** Strike in index points. */
  readonly strike: number
  readonly optionType: "C" | "P"
  /** e.g. `NQZ6 C21500`. */
  readonly rawSymbol: string
}

export interface FutureInstrument {
  readonly instrumentId: number
  /** e.g. `NQZ6`. */
  readonly rawSymbol: string
  readonly suffix: string
  readonly expirationNs: bigint
  readonly day: number
}

export interface Chain {
  readonly expiries: ReadonlyArray<Expiry>
  readonly options: ReadonlyArray<OptionInstrument>
  readonly future: FutureInstrument
}

export interface ChainShape {
  /** Trading day, days since the epoch. */
  readonly tradingDay: number
  /** 1–8 expirations. */
  readonly expirations: number
  /** Strikes per expiration (each listed as a call and a put). */
  readonly strikesPerExpiration: number
  /** Distance between strikes, index points. */
  readonly strikeSpacing: number
  /** Underlying price at the open, index points (the strike ladder is centred on it). */
  readonly underlyingPrice: number
}

const PM_EXPIRY_MINUTES = 16 * 60
const AM_EXPIRY_MINUTES = 9 * 60 + 30

interface Candidate {
  readonly kind: ExpiryKind
  readonly day: number
  readonly asset: string
}

const QUARTER_MONTHS = [3, 6, 9, 12]

/** Third Friday of the first quarterly month on or after `from`, then of the following ones. */
const quarterlyAfter = (from: number, skip: number): number => {
  const { y, m } = Calendar.civilFromDays(from)
  const found: Array<number> = []
  for (let yy = y; found.length <= skip; yy++) {
    for (const qm of QUARTER_MONTHS) {
      if (yy === y && qm < m) continue
      const day = Calendar.nthWeekday(yy, qm, 5, 3)
      if (day >= from) found.push(day)
      if (found.length > skip) break
    }
  }
  return found[skip]!
}

/** Friday weeklies and end-of-month expirations in [from, until), in the order they are preferred. */
const shortDated = (from: number, until: number): Array<Candidate> => {
  const fridays: Array<Candidate> = []
  let friday = from + ((5 - Calendar.weekday(from) + 7) % 7)
  for (; friday < until; friday += 7) {
    const { d } = Calendar.civilFromDays(friday)
    fridays.push({ kind: "weekly", day: friday, asset: `QN${Math.ceil(d / 7)}` })
  }
  const months: Array<Candidate> = []
  const start = Calendar.civilFromDays(from)
  for (let k = 0; k < 4; k++) {
    const mm = ((start.m - 1 + k) % 12) + 1
    const yy = start.y + Math.floor((start.m - 1 + k) / 12)
    const day = Calendar.lastBusinessDay(yy, mm)
    if (day >= from && day < until) months.push({ kind: "monthly", day, asset: "QNE" })
  }
  // The nearest weekly first, then the nearest end-of-month, then the remaining weeklies, then later months.
  const out: Array<Candidate> = []
  if (fridays.length > 0) out.push(fridays[0]!)
  if (months.length > 0) out.push(months[0]!)
  out.push(...fridays.slice(1), ...months.slice(1))
  const seen = new Set<number>()
  return out.filter((c) => (seen.has(c.day) ? false : (seen.add(c.day), true)))
}

/**
 * An instrument id for a contract from its raw symbol alone, as CME's security ids are: the same contract keeps its
 * id from one trading day to the next, so a replay of several days carries its book over (each day's snapshot
 * resets it) instead of leaving yesterday's orders in a book nobody updates. A collision with another contract of
 * the chain moves to the next free id.
 */
const stableId = (rawSymbol: string, taken: Set<number>): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < rawSymbol.length; i++) h = Math.imul(h ^ rawSymbol.charCodeAt(i), 0x01000193)
  let id = 10_000_000 + ((h >>> 0) % 2_000_000_000)
  while (taken.has(id)) id++
  taken.add(id)
  return id
}

/** Builds the chain; instrument ids are stable per contract (`stableId`) and distinct. */
export const build = (shape: ChainShape, rng: Rng): Chain => {
  const n = Math.max(1, Math.min(8, Math.floor(shape.expirations)))
  // The quarterly is the last expiration, so every option can share its future as the underlying.
  let skip = 0
  let quarterly = quarterlyAfter(shape.tradingDay, skip)
  let others = shortDated(shape.tradingDay, quarterly)
  while (others.length < n - 1) {
    quarterly = quarterlyAfter(shape.tradingDay, ++skip)
    others = shortDated(shape.tradingDay, quarterly)
  }
  const picked: Array<Candidate> = [...others.slice(0, n - 1), { kind: "quarterly", day: quarterly, asset: "NQ" }]
  picked.sort((a, b) => a.day - b.day)

  const expiries: Array<Expiry> = picked.map((c, index) => {
    const civil = Calendar.civilFromDays(c.day)
    const minutes = c.kind === "quarterly" ? AM_EXPIRY_MINUTES : PM_EXPIRY_MINUTES
    const expirationNs = Calendar.newYorkToUtcNs(c.day, minutes)
    return {
      index,
      kind: c.kind,
      asset: c.asset,
      suffix: Calendar.contractSuffix(civil.y, civil.m),
      day: c.day,
      expirationNs,
      expiration: Calendar.isoDate(Number(expirationNs / 86_400_000_000_000n)),
      channel: index % 4
    }
  })

  const qCivil = Calendar.civilFromDays(quarterly)
  const futureSuffix = Calendar.contractSuffix(qCivil.y, qCivil.m)
  const taken = new Set<number>()
  // Drawn and unused since ids became stable: the random stream, and so every session of a seed, stays as it was.
  rng.int(20_000_000)
  const futureSymbol = `NQ${futureSuffix}`
  const future: FutureInstrument = {
    instrumentId: stableId(futureSymbol, taken),
    rawSymbol: futureSymbol,
    suffix: futureSuffix,
    expirationNs: Calendar.newYorkToUtcNs(quarterly, AM_EXPIRY_MINUTES),
    day: quarterly
  }

  const spacing = shape.strikeSpacing
  const count = Math.max(1, Math.floor(shape.strikesPerExpiration))
  const center = Math.round(shape.underlyingPrice / spacing) * spacing
  const first = Math.max(spacing, center - Math.floor((count - 1) / 2) * spacing)
  const options: Array<OptionInstrument> = []
  for (const expiry of expiries) {
    for (let k = 0; k < count; k++) {
      const strike = first + k * spacing
      for (const optionType of ["C", "P"] as const) {
        rng.int(40)
        const rawSymbol = `${expiry.asset}${expiry.suffix} ${optionType}${strike}`
        options.push({
          index: options.length,
          instrumentId: stableId(rawSymbol, taken),
          expiry,
          strike,
          optionType,
          rawSymbol
        })
      }
    }
  }
  return { expiries, options, future }
}
