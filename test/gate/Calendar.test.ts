import { assert, describe, it } from "@effect/vitest"
import * as Calendar from "../../src/gate/Calendar.js"

const at = (iso: string) => Date.parse(iso)
const rth = Calendar.defaultHours
const globex: Calendar.Hours = { ...Calendar.defaultHours, kind: "globex" }

describe("Calendar holidays", () => {
  const cases: ReadonlyArray<readonly [number, ReadonlyArray<string>]> = [
    [2025, [
      "2025-01-01 New Year's Day",
      "2025-01-09 National Day of Mourning",
      "2025-01-20 Martin Luther King Jr. Day",
      "2025-02-17 Presidents' Day",
      "2025-04-18 Good Friday",
      "2025-05-26 Memorial Day",
      "2025-06-19 Juneteenth",
      "2025-07-04 Independence Day",
      "2025-09-01 Labor Day",
      "2025-11-27 Thanksgiving Day",
      "2025-12-25 Christmas Day"
    ]],
    [2026, [
      "2026-01-01 New Year's Day",
      "2026-01-19 Martin Luther King Jr. Day",
      "2026-02-16 Presidents' Day",
      "2026-04-03 Good Friday",
      "2026-05-25 Memorial Day",
      "2026-06-19 Juneteenth",
      "2026-07-03 Independence Day",
      "2026-09-07 Labor Day",
      "2026-11-26 Thanksgiving Day",
      "2026-12-25 Christmas Day"
    ]],
    [2027, [
      "2027-01-01 New Year's Day",
      "2027-01-18 Martin Luther King Jr. Day",
      "2027-02-15 Presidents' Day",
      "2027-03-26 Good Friday",
      "2027-05-31 Memorial Day",
      "2027-06-18 Juneteenth",
      "2027-07-05 Independence Day",
      "2027-09-06 Labor Day",
      "2027-11-25 Thanksgiving Day",
      "2027-12-24 Christmas Day"
    ]]
  ]
  for (const [year, expected] of cases) {
    it(`lists the exchange holidays of ${year} on their observed dates`, () => {
      assert.deepStrictEqual(Calendar.holidays(year).map((h) => `${h.date} ${h.name}`), expected)
    })
  }

  it("lists the 13:00 early closes of 2025–2027", () => {
    const dates = [2025, 2026, 2027].flatMap((y) => Calendar.earlyCloses(y).map((e) => e.date))
    assert.deepStrictEqual(dates, [
      "2025-07-03",
      "2025-11-28",
      "2025-12-24",
      "2026-11-27",
      "2026-12-24",
      "2027-11-26"
    ])
  })

  it("does not observe a Saturday New Year's Day on the Friday before", () => {
    assert.strictEqual(Calendar.dayInfo(Calendar.parseDate("2027-12-31")!)._tag, "Regular")
    assert.isTrue(Calendar.holidays(2028).every((h) => h.name !== "New Year's Day"))
  })

  it("closes Globex all day on New Year's Day, Good Friday and Christmas, and halts it on the others", () => {
    for (const h of Calendar.holidays(2026)) {
      const full = ["New Year's Day", "Good Friday", "Christmas Day"].includes(h.name)
      assert.strictEqual(h.cme._tag, full ? "Closed" : "Halt", h.name)
    }
  })

  it("computes Easter for known years", () => {
    assert.strictEqual(Calendar.isoDate(Calendar.easter(2024)), "2024-03-31")
    assert.strictEqual(Calendar.isoDate(Calendar.easter(2025)), "2025-04-20")
    assert.strictEqual(Calendar.isoDate(Calendar.easter(2038)), "2038-04-25")
  })
})

describe("Calendar New York time", () => {
  it("maps 09:30 New York to 14:30Z in winter and 13:30Z in summer, across both 2025 DST changes", () => {
    const d = (s: string) => Calendar.parseDate(s)!
    assert.strictEqual(Calendar.instantAt(d("2025-03-07"), 570), at("2025-03-07T14:30:00Z"))
    assert.strictEqual(Calendar.instantAt(d("2025-03-10"), 570), at("2025-03-10T13:30:00Z"))
    assert.strictEqual(Calendar.instantAt(d("2025-10-31"), 570), at("2025-10-31T13:30:00Z"))
    assert.strictEqual(Calendar.instantAt(d("2025-11-03"), 570), at("2025-11-03T14:30:00Z"))
    // The change days themselves: 18:00 on the Sunday the clocks moved at 02:00.
    assert.strictEqual(Calendar.instantAt(d("2025-03-09"), 1080), at("2025-03-09T22:00:00Z"))
    assert.strictEqual(Calendar.instantAt(d("2025-11-02"), 1080), at("2025-11-02T23:00:00Z"))
  })

  it("reads the New York wall clock of an instant", () => {
    const w = Calendar.wallAt(at("2025-11-02T05:30:00.250Z")) // 01:30:00.250 EDT, before the fall-back
    assert.strictEqual(Calendar.isoDate(w.day), "2025-11-02")
    assert.strictEqual(w.millisOfDay, 90 * 60_000 + 250)
    assert.strictEqual(Calendar.nyDate(at("2025-06-03T03:59:59Z")), "2025-06-02")
    assert.strictEqual(Calendar.nyDate(at("2025-06-03T04:00:00Z")), "2025-06-03")
  })

  it("rolls the trade date at 18:00 New York time, or at midnight when asked", () => {
    assert.strictEqual(Calendar.tradeDate(at("2025-06-02T21:59:59.999Z"), 1080), "2025-06-02")
    assert.strictEqual(Calendar.tradeDate(at("2025-06-02T22:00:00Z"), 1080), "2025-06-03")
    assert.strictEqual(Calendar.nextRollover(at("2025-06-02T15:00:00Z"), 1080), at("2025-06-02T22:00:00Z"))
    assert.strictEqual(Calendar.nextRollover(at("2025-06-02T22:00:00Z"), 1080), at("2025-06-03T22:00:00Z"))
    assert.strictEqual(Calendar.tradeDate(at("2025-06-02T22:00:00Z"), 0), "2025-06-02")
    assert.strictEqual(Calendar.nextRollover(at("2025-06-02T22:00:00Z"), 0), at("2025-06-03T04:00:00Z"))
    // Winter: 18:00 EST = 23:00Z.
    assert.strictEqual(Calendar.nextRollover(at("2025-12-01T15:00:00Z"), 1080), at("2025-12-01T23:00:00Z"))
  })
})

describe("Calendar sessions", () => {
  it("gives RTH sessions on weekdays only, with early closes at 13:00", () => {
    const s = Calendar.sessionFrom(at("2025-12-24T12:00:00Z"), rth)
    assert.strictEqual(s.tradeDate, "2025-12-24")
    assert.strictEqual(s.close, at("2025-12-24T18:00:00Z"))
    assert.strictEqual(Calendar.sessionFrom(at("2025-12-24T18:00:00Z"), rth).tradeDate, "2025-12-26")
    assert.strictEqual(Calendar.sessionFrom(at("2025-06-07T12:00:00Z"), rth).tradeDate, "2025-06-09")
  })

  it("opens a Globex trade date at 18:00 the evening before and halts at 13:15 on early-close days", () => {
    const s = Calendar.sessionFrom(at("2025-11-28T12:00:00Z"), globex)
    assert.strictEqual(s.tradeDate, "2025-11-28")
    assert.strictEqual(s.open, at("2025-11-27T23:00:00Z")) // Thanksgiving 18:00 EST
    assert.strictEqual(s.close, at("2025-11-28T18:15:00Z"))
  })

  it("does not hand-roll DST: every session of 2025–2027 opens and closes at the intended New York time", () => {
    for (const hours of [rth, globex]) {
      let t = at("2025-01-01T00:00:00Z")
      let n = 0
      while (t < at("2028-01-01T00:00:00Z")) {
        const s = Calendar.sessionFrom(t, hours)
        const open = Calendar.wallAt(s.open).millisOfDay / 60_000
        const close = Calendar.wallAt(s.close).millisOfDay / 60_000
        assert.strictEqual(open, hours.kind === "rth" ? 570 : 1080, `${s.tradeDate} open`)
        assert.include(hours.kind === "rth" ? [960, 780] : [1020, 795, 780, 570], close, `${s.tradeDate} close`)
        t = s.close
        n++
      }
      // NYSE sessions: 250 in 2025 (with the day of mourning), 251 in 2026, 252 in 2027; Globex adds the halt days.
      assert.strictEqual(n, hours.kind === "rth" ? 250 + 251 + 252 : 250 + 251 + 252 + 8 + 7 + 7, hours.kind)
    }
  })
})
