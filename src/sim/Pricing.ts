/**
 * Option fair values for the simulator: the Bachelier (normal) model with a mild smile. Not a pricing library:
 * it only has to make option quotes move sensibly with the underlying and keep calls/puts and strikes ordered.
 */

const INV_SQRT_2PI = 0.3989422804014327

/** Standard normal CDF (Abramowitz–Stegun 26.2.17, |error| < 7.5e-8). */
export const normCdf = (x: number): number => {
  const ax = Math.abs(x)
  const t = 1 / (1 + 0.2316419 * ax)
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
  const tail = INV_SQRT_2PI * Math.exp(-0.5 * ax * ax) * poly
  return x >= 0 ? 1 - tail : tail
}

export const normPdf = (x: number): number => INV_SQRT_2PI * Math.exp(-0.5 * x * x)

/** Seconds in the year used for time to expiry. */
export const SECONDS_PER_YEAR = 365.25 * 86400

/**
 * Fair value in index points.
 * @param spot underlying price, points
 * @param strike points
 * @param years time to expiry in years (floored at about one hour so expiring options keep a little time value)
 * @param vol annualised lognormal-equivalent volatility (0.2 = 20 %)
 */
export const fairValue = (isCall: boolean, spot: number, strike: number, years: number, vol: number): number => {
  const t = years < 1e-4 ? 1e-4 : years
  const moneyness = (strike - spot) / spot
  // A smile: out-of-the-money strikes carry more volatility, puts more than calls.
  const smile = vol * (1 + 2.5 * moneyness * moneyness + (moneyness < 0 ? -0.6 * moneyness : 0))
  const sd = spot * smile * Math.sqrt(t)
  const intrinsic = isCall ? spot - strike : strike - spot
  const d = intrinsic / sd
  return intrinsic * normCdf(d) + sd * normPdf(d)
}
