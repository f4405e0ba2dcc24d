/**
 * The underlying price an option's moneyness is measured from, taken from the data itself: the mid of the
 * underlying future's book when it has a two-sided one, else put–call parity on near-the-money pairs of the same
 * expiration (F ≈ K + C − P, the discount factor taken as 1: it is within 0.1 % of 1 for the short-dated
 * options that carry the flow). Pure TS.
 */
import type { OptionType } from "./PressureWindow.js"

/** Mid prices (points) of the call and the put of one strike. */
export interface ParityPair {
  readonly strike: number
  readonly callMid: number
  readonly putMid: number
}

/**
 * Forward from put–call parity: each pair gives K + C − P; the pairs nearest the money (smallest |C − P|, where
 * both legs are liquid and their spreads smallest relative to value) are kept and their median returned.
 * Undefined without a usable pair: never a made-up default.
 */
export const parityForward = (pairs: ReadonlyArray<ParityPair>, nearest = 3): number | undefined => {
  const usable = pairs.filter((p) => p.callMid > 0 && p.putMid > 0 && Number.isFinite(p.callMid + p.putMid))
  if (usable.length === 0) return undefined
  usable.sort((a, b) => Math.abs(a.callMid - a.putMid) - Math.abs(b.callMid - b.putMid))
  return median(usable.slice(0, nearest).map((p) => p.strike + p.callMid - p.putMid))
}

/** Strike spacing of a chain: the smallest positive gap between distinct strikes (undefined with fewer than two). */
export const strikeSpacing = (strikes: ReadonlyArray<number>): number | undefined => {
  const s = [...new Set(strikes)].sort((a, b) => a - b)
  let gap = Infinity
  for (let i = 1; i < s.length; i++) gap = Math.min(gap, s[i]! - s[i - 1]!)
  return Number.isFinite(gap) && gap > 0 ? gap : undefined
}

/** Strikes out of the money (negative: in the money), in strike spacings: calls above the underlying, puts below. */
export const otmStrikes = (optionType: OptionType, strike: number, underlying: number, spacing: number): number =>
  (optionType === "C" ? strike - underlying : underlying - strike) / spacing

/** The moneyness bucket: distance out of the money rounded to whole strikes, clamped to ±`limit`. */
export const bucketOf = (otm: number, limit = 8): number => Math.max(-limit, Math.min(limit, Math.round(otm)))

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
