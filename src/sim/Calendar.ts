/**
 * Civil-date arithmetic for the simulator: days since the epoch, weekdays, CME-style expiration dates and
 * America/New_York wall time → UTC nanoseconds (US daylight-saving rule since 2007), without Intl or Date parsing.
 */

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
export const daysFromCivil = (y: number, m: number, d: number): number => {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const mp = (m + 9) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

export interface Civil {
  readonly y: number
  /** 1–12. */
  readonly m: number
  readonly d: number
}

export const civilFromDays = (days: number): Civil => {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d }
}

/** 0 = Sunday … 6 = Saturday. */
export const weekday = (days: number): number => ((days % 7) + 11) % 7

/** Parses `YYYY-MM-DD` into days since the epoch; throws on anything else (parameters are programmer input). */
export const parseIsoDate = (s: string): number => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (m === null) throw new Error(`expected a YYYY-MM-DD date, got ${JSON.stringify(s)}`)
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const days = daysFromCivil(y, mo, d)
  const back = civilFromDays(days)
  if (back.y !== y || back.m !== mo || back.d !== d) throw new Error(`not a calendar date: ${s}`)
  return days
}

/** The `n` weekdays ending with `last` (a weekday), oldest first, as `YYYY-MM-DD`: simulated trading days. */
export const weekdaysEnding = (last: string, n: number): Array<string> => {
  const out: Array<string> = []
  for (let day = parseIsoDate(last); out.length < n; day--) {
    const wd = weekday(day)
    if (wd !== 0 && wd !== 6) out.push(isoDate(day))
  }
  return out.reverse()
}

const pad2 = (n: number): string => (n < 10 ? "0" : "") + n

/** `YYYY-MM-DD` of a day number. */
export const isoDate = (days: number): string => {
  const c = civilFromDays(days)
  return `${c.y}-${pad2(c.m)}-${pad2(c.d)}`
}

/** YYYYMMDD as an integer (the DBN metadata mapping date form). */
export const yyyymmdd = (days: number): number => {
  const c = civilFromDays(days)
  return c.y * 10000 + c.m * 100 + c.d
}

/** Day of the n-th (1-based) given weekday of a month. */
export const nthWeekday = (y: number, m: number, wd: number, n: number): number => {
  const first = daysFromCivil(y, m, 1)
  return first + ((wd - weekday(first) + 7) % 7) + (n - 1) * 7
}

/** Day of the last Monday–Friday of a month (holidays are not modelled). */
export const lastBusinessDay = (y: number, m: number): number => {
  const next = m === 12 ? daysFromCivil(y + 1, 1, 1) : daysFromCivil(y, m + 1, 1)
  let d = next - 1
  while (weekday(d) === 0 || weekday(d) === 6) d--
  return d
}

/** Whether New York is on daylight time on day `days` (second Sunday of March → first Sunday of November). */
export const isNewYorkDst = (days: number): boolean => {
  const { y } = civilFromDays(days)
  return days >= nthWeekday(y, 3, 0, 2) && days < nthWeekday(y, 11, 0, 1)
}

const NS_PER_MINUTE = 60_000_000_000n
const NS_PER_DAY = 86_400_000_000_000n

/** UTC ns of a New York wall-clock time (`minutes` after local midnight) on day `days`; valid for times after 02:00. */
export const newYorkToUtcNs = (days: number, minutes: number): bigint => {
  const offsetMinutes = isNewYorkDst(days) ? 240 : 300
  return BigInt(days) * NS_PER_DAY + BigInt(minutes + offsetMinutes) * NS_PER_MINUTE
}

/** Parses `HH:MM` into minutes after midnight. */
export const parseClock = (s: string): number => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s)
  if (m === null || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error(`expected HH:MM, got ${JSON.stringify(s)}`)
  return Number(m[1]) * 60 + Number(m[2])
}

/** CME month codes, January first. */
export const MONTH_CODES = "FGHJKMNQUVXZ"

/** CME contract suffix, e.g. December 2026 → `Z6`. */
export const contractSuffix = (y: number, m: number): string => MONTH_CODES[m - 1]! + String(y % 10)
