/**
 * The CME equity-index calendar in America/New_York wall time: exchange holidays (rules, observed days, Good Friday
 * from Easter, one-off closures), the early closes, and the RTH or Globex session of each trade date as UTC instants.
 * Instants ⇄ New York wall time go through `Intl` (full ICU in Node 20); no DST rule is written here.
 */

/** Which hours the stream follows. */
export type SessionKind = "rth" | "globex"

/** A day as days since 1970-01-01 (civil date, no time zone). */
export type Day = number

const MS_PER_DAY = 86_400_000
const MS_PER_MINUTE = 60_000

export const day = (year: number, month: number, dayOfMonth: number): Day =>
  Math.floor(Date.UTC(year, month - 1, dayOfMonth) / MS_PER_DAY)

/** `YYYY-MM-DD`. */
export const isoDate = (d: Day): string => new Date(d * MS_PER_DAY).toISOString().slice(0, 10)

/** `YYYY-MM-DD` → Day; undefined when it is not a real date. */
export const parseDate = (s: string): Day | undefined => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (m === null) return undefined
  const d = day(Number(m[1]), Number(m[2]), Number(m[3]))
  return isoDate(d) === s ? d : undefined
}

/** 0 = Sunday … 6 = Saturday. */
export const weekday = (d: Day): number => new Date(d * MS_PER_DAY).getUTCDay()

/** Minutes after midnight of `HH:MM`; undefined when malformed. */
export const parseClock = (s: string): number | undefined => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim())
  if (m === null) return undefined
  const h = Number(m[1])
  const min = Number(m[2])
  return h < 24 && min < 60 ? h * 60 + min : undefined
}

export const formatClock = (minute: number): string =>
  `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`

// ---------------------------------------------------------------------------------------------------------------
// New York wall time

export const TIME_ZONE = "America/New_York"

// h23: some ICU versions print midnight as "24" under hour12: false.
const nyFormat = new Intl.DateTimeFormat("en-US", {
  timeZone: TIME_ZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric"
})

/** The New York wall clock at an instant, as if it were UTC (epoch ms). */
const nyLocalMillis = (epochMs: number): number => {
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0
  for (const p of nyFormat.formatToParts(epochMs)) {
    switch (p.type) {
      case "year":
        y = Number(p.value)
        break
      case "month":
        mo = Number(p.value)
        break
      case "day":
        d = Number(p.value)
        break
      case "hour":
        h = Number(p.value)
        break
      case "minute":
        mi = Number(p.value)
        break
      case "second":
        s = Number(p.value)
        break
    }
  }
  const subSecond = ((epochMs % 1000) + 1000) % 1000
  return Date.UTC(y, mo - 1, d, h, mi, s) + subSecond
}

/** New York's offset from UTC at an instant, in ms (−4 h in summer, −5 h in winter). */
export const nyOffset = (epochMs: number): number => nyLocalMillis(epochMs) - epochMs

export interface Wall {
  /** The New York calendar date. */
  readonly day: Day
  /** Milliseconds since New York midnight of `day`. */
  readonly millisOfDay: number
}

export const wallAt = (epochMs: number): Wall => {
  const local = nyLocalMillis(epochMs)
  const d = Math.floor(local / MS_PER_DAY)
  return { day: d, millisOfDay: local - d * MS_PER_DAY }
}

/** The New York date of an instant, `YYYY-MM-DD`. */
export const nyDate = (epochMs: number): string => isoDate(wallAt(epochMs).day)

/**
 * The instant at which New York's wall clock shows `minute` past midnight of `d`. The offset is looked up twice
 * (at the naive guess, then at the corrected instant), which is exact for every wall time outside the 02:00–03:00
 * spring-forward gap; the calendar never asks for one inside it.
 */
export const instantAt = (d: Day, minute: number): number => {
  const local = d * MS_PER_DAY + minute * MS_PER_MINUTE
  const first = local - nyOffset(local)
  return local - nyOffset(first)
}

// ---------------------------------------------------------------------------------------------------------------
// Trade dates

/**
 * The trade date an instant belongs to, `YYYY-MM-DD`: the New York date, moved to the next day from `rolloverMinute`
 * on (18:00 is CME's: the Globex session that opens Sunday 18:00 ET trades for Monday). 0 = the plain calendar date.
 */
export const tradeDate = (epochMs: number, rolloverMinute: number): string => {
  const w = wallAt(epochMs)
  return isoDate(rolloverMinute > 0 && w.millisOfDay >= rolloverMinute * MS_PER_MINUTE ? w.day + 1 : w.day)
}

/** The instant the trade date of `epochMs` ends and the next begins. */
export const nextRollover = (epochMs: number, rolloverMinute: number): number => {
  const current = parseDate(tradeDate(epochMs, rolloverMinute))!
  return instantAt(rolloverMinute > 0 ? current : current + 1, rolloverMinute)
}

// ---------------------------------------------------------------------------------------------------------------
// Holidays and early closes

/**
 * What CME Globex does for equity-index products on an exchange holiday (the NYSE is closed all day on each):
 * - `Closed`: no session for that trade date (New Year's Day, Good Friday, Christmas).
 * - `Halt`: the session that opened the evening before trades until `haltMinute` ET, then Globex reopens at 18:00 ET
 *   for the next trade date (12:00 CT = 13:00 ET on the Monday holidays, Juneteenth, Independence Day, Thanksgiving).
 */
export type CmeHoliday =
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Halt"; readonly haltMinute: number }

export interface Holiday {
  readonly date: string
  readonly name: string
  readonly cme: CmeHoliday
}

export interface EarlyClose {
  readonly date: string
  readonly name: string
}

const closed: CmeHoliday = { _tag: "Closed" }
/** 12:00 CT. */
const halt: CmeHoliday = { _tag: "Halt", haltMinute: 13 * 60 }

/** Exchange closures decided case by case rather than by rule. */
export const specialClosures: ReadonlyArray<Holiday> = [
  // National Day of Mourning for President Carter: NYSE closed; CME equity markets open until 08:30 CT.
  { date: "2025-01-09", name: "National Day of Mourning", cme: { _tag: "Halt", haltMinute: 9 * 60 + 30 } }
]

/** The n-th (1-based) `wd` weekday of a month; n = -1 is the last. */
export const nthWeekday = (year: number, month: number, wd: number, n: number): Day => {
  if (n > 0) {
    const first = day(year, month, 1)
    return first + ((wd - weekday(first) + 7) % 7) + (n - 1) * 7
  }
  const last = day(year, month + 1, 1) - 1
  return last - ((weekday(last) - wd + 7) % 7)
}

/** Easter Sunday (Gregorian; the anonymous Meeus/Jones/Butcher computus). */
export const easter = (year: number): Day => {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const dom = ((h + l - 7 * m + 114) % 31) + 1
  return day(year, month, dom)
}

/** A fixed-date holiday moved to Friday when on Saturday and to Monday when on Sunday (NYSE Rule 7.2). */
const observed = (d: Day): Day => {
  const wd = weekday(d)
  return wd === 6 ? d - 1 : wd === 0 ? d + 1 : d
}

const holidayCache = new Map<number, ReadonlyArray<Holiday>>()

/** The exchange holidays falling in `year` (by observed date), in date order. */
export const holidays = (year: number): ReadonlyArray<Holiday> => {
  const cached = holidayCache.get(year)
  if (cached !== undefined) return cached
  const out: Array<{ d: Day; name: string; cme: CmeHoliday }> = []
  // New Year's Day on a Saturday is not observed on the Friday before: that Friday ends the year (NYSE rule).
  const newYear = day(year, 1, 1)
  if (weekday(newYear) !== 6) out.push({ d: observed(newYear), name: "New Year's Day", cme: closed })
  out.push({ d: nthWeekday(year, 1, 1, 3), name: "Martin Luther King Jr. Day", cme: halt })
  out.push({ d: nthWeekday(year, 2, 1, 3), name: "Presidents' Day", cme: halt })
  out.push({ d: easter(year) - 2, name: "Good Friday", cme: closed })
  out.push({ d: nthWeekday(year, 5, 1, -1), name: "Memorial Day", cme: halt })
  if (year >= 2022) out.push({ d: observed(day(year, 6, 19)), name: "Juneteenth", cme: halt })
  out.push({ d: observed(day(year, 7, 4)), name: "Independence Day", cme: halt })
  out.push({ d: nthWeekday(year, 9, 1, 1), name: "Labor Day", cme: halt })
  out.push({ d: nthWeekday(year, 11, 4, 4), name: "Thanksgiving Day", cme: halt })
  out.push({ d: observed(day(year, 12, 25)), name: "Christmas Day", cme: closed })
  for (const s of specialClosures) {
    const d = parseDate(s.date)!
    if (s.date.startsWith(`${year}-`)) out.push({ d, name: s.name, cme: s.cme })
  }
  out.sort((a, b) => a.d - b.d)
  const result = out.map((h) => ({ date: isoDate(h.d), name: h.name, cme: h.cme }))
  holidayCache.set(year, result)
  return result
}

/**
 * The NYSE 13:00 ET closes (CME equity halts at 12:15 CT = 13:15 ET the same days): the day before Independence Day
 * when both are weekdays, the day after Thanksgiving, and Christmas Eve when it is Monday–Thursday.
 */
export const earlyCloses = (year: number): ReadonlyArray<EarlyClose> => {
  const out: Array<EarlyClose> = []
  const july3 = day(year, 7, 3)
  if (weekday(july3) >= 1 && weekday(july3) <= 4) out.push({ date: isoDate(july3), name: "Independence Day eve" })
  out.push({ date: isoDate(nthWeekday(year, 11, 4, 4) + 1), name: "Day after Thanksgiving" })
  const dec24 = day(year, 12, 24)
  if (weekday(dec24) >= 1 && weekday(dec24) <= 4) out.push({ date: isoDate(dec24), name: "Christmas Eve" })
  return out
}

export type DayInfo =
  | { readonly _tag: "Weekend" }
  | { readonly _tag: "Regular" }
  | { readonly _tag: "Holiday"; readonly holiday: Holiday }
  | { readonly _tag: "EarlyClose"; readonly earlyClose: EarlyClose }

export const dayInfo = (d: Day): DayInfo => {
  const wd = weekday(d)
  if (wd === 0 || wd === 6) return { _tag: "Weekend" }
  const date = isoDate(d)
  const year = Number(date.slice(0, 4))
  const holiday = holidays(year).find((h) => h.date === date)
  if (holiday !== undefined) return { _tag: "Holiday", holiday }
  const early = earlyCloses(year).find((e) => e.date === date)
  return early === undefined ? { _tag: "Regular" } : { _tag: "EarlyClose", earlyClose: early }
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions

/** Session hours as minutes after New York midnight. */
export interface Hours {
  readonly kind: SessionKind
  readonly rthOpen: number
  readonly rthClose: number
  /** RTH close on early-close days: 13:00, the NYSE close, after which the Nasdaq-100 stops being calculated. */
  readonly rthEarlyClose: number
  /** Globex opens the evening before the trade date. */
  readonly globexOpen: number
  readonly globexClose: number
  /** Globex equity halt on early-close days: 12:15 CT. */
  readonly globexEarlyClose: number
}

export const defaultHours: Hours = {
  kind: "rth",
  rthOpen: 9 * 60 + 30,
  rthClose: 16 * 60,
  rthEarlyClose: 13 * 60,
  globexOpen: 18 * 60,
  globexClose: 17 * 60,
  globexEarlyClose: 13 * 60 + 15
}

export interface Session {
  /** The trade date, `YYYY-MM-DD`. */
  readonly tradeDate: string
  /** Epoch ms, inclusive. */
  readonly open: number
  /** Epoch ms, exclusive. */
  readonly close: number
  /** Why the session is short or absent-looking: a holiday halt or an early close. */
  readonly note: string | undefined
}

/** The session of a trade date, or undefined when there is none (weekend, holiday). */
export const sessionOf = (d: Day, hours: Hours): Session | undefined => {
  const info = dayInfo(d)
  if (info._tag === "Weekend") return undefined
  const tradeDate = isoDate(d)
  if (hours.kind === "rth") {
    if (info._tag === "Holiday") return undefined
    const close = info._tag === "EarlyClose" ? Math.min(hours.rthClose, hours.rthEarlyClose) : hours.rthClose
    return {
      tradeDate,
      open: instantAt(d, hours.rthOpen),
      close: instantAt(d, close),
      note: info._tag === "EarlyClose" ? `early close: ${info.earlyClose.name}` : undefined
    }
  }
  let close = hours.globexClose
  let note: string | undefined
  if (info._tag === "Holiday") {
    if (info.holiday.cme._tag === "Closed") return undefined
    close = Math.min(close, info.holiday.cme.haltMinute)
    note = `holiday halt: ${info.holiday.name}`
  } else if (info._tag === "EarlyClose") {
    close = Math.min(close, hours.globexEarlyClose)
    note = `early close: ${info.earlyClose.name}`
  }
  return { tradeDate, open: instantAt(d - 1, hours.globexOpen), close: instantAt(d, close), note }
}

// A long weekend plus a holiday spans at most 4 days without a session; 14 leaves room for any closure table.
const SEARCH_DAYS = 14

/** The session containing `epochMs`, or else the next one to open. */
export const sessionFrom = (epochMs: number, hours: Hours): Session => {
  // A Globex session opens the evening before its trade date, so start one day back.
  const start = wallAt(epochMs).day - 1
  for (let d = start; d <= start + SEARCH_DAYS; d++) {
    const s = sessionOf(d, hours)
    if (s !== undefined && s.close > epochMs) return s
  }
  throw new Error(`no ${hours.kind} session within ${SEARCH_DAYS} days of ${new Date(epochMs).toISOString()}`)
}

export const isOpen = (epochMs: number, hours: Hours): boolean => sessionFrom(epochMs, hours).open <= epochMs

/** The next instant the market opens strictly after `epochMs` (when open, the open of the following session). */
export const nextOpen = (epochMs: number, hours: Hours): number => {
  const s = sessionFrom(epochMs, hours)
  return s.open > epochMs ? s.open : sessionFrom(s.close, hours).open
}

/** The close of the current session, or of the next one when closed. */
export const nextClose = (epochMs: number, hours: Hours): number => sessionFrom(epochMs, hours).close
