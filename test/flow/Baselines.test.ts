import { assert, describe, it } from "@effect/vitest"
import * as Baselines from "../../src/flow/Baselines.js"

const obs = (day: string, logVolume: number, key = "C|+1|10:00|0-2d"): Baselines.Observation => ({
  day,
  key,
  logRatio: 0,
  logVolume,
  trades: 1,
  avgSize: 1
})

describe("Baselines", () => {
  it("computes median and MAD, unmoved by one outlier", () => {
    assert.deepStrictEqual(Baselines.robust([1, 2, 3, 4, 1000]), { median: 3, mad: 1 })
  })

  it("selects the median and MAD equal to sorting the values and the deviations, for odd and even counts and ties", () => {
    let seed = 9
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
    const naive = (xs: Array<number>) => {
      const s = [...xs].sort((a, b) => a - b)
      const mid = (v: Array<number>) => v.length % 2 === 1 ? v[v.length >> 1]! : (v[(v.length >> 1) - 1]! + v[v.length >> 1]!) / 2
      const m = mid(s)
      return { median: m, mad: mid(s.map((x) => Math.abs(x - m)).sort((a, b) => a - b)) }
    }
    for (let trial = 0; trial < 600; trial++) {
      // Mostly short runs (sorted in place), every sixth long enough to be partitioned many times over.
      const n = trial % 6 === 0 ? 1 + Math.floor(next() * 3000) : 1 + Math.floor(next() * 40)
      // Small integers give many ties; a few trials use spread-out values.
      const xs = Array.from({ length: n }, () => trial % 5 === 0 ? next() * 1e6 - 5e5 : Math.floor(next() * 7) - 3)
      assert.deepStrictEqual(Baselines.robust(xs), naive(xs), JSON.stringify(xs))
    }
    assert.deepStrictEqual(Baselines.robust([]), { median: NaN, mad: NaN })
  })

  it("gives the same statistics as a plain per-key computation, and sees observations added to a day already used", () => {
    let seed = 3
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
    const keys = ["C|+1|10:00|0-2d", "C|+1|10:30|0-2d", "P|-2|10:00|3-9d", "P|-2|14:00|3-9d", "C|0|15:30|10d+"]
    const all: Array<Baselines.Observation> = []
    const h = new Baselines.History()
    const days = ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05"]
    for (const day of days) {
      for (let i = 0; i < 200; i++) {
        const o = {
          day,
          key: keys[Math.floor(next() * keys.length)]!,
          logRatio: Math.round((next() - 0.5) * 40) / 10,
          logVolume: next() * 6,
          trades: Math.floor(next() * 9),
          avgSize: Math.floor(next() * 30) / 3
        }
        all.push(o)
        h.add(o)
      }
    }
    const naive = (obs: ReadonlyArray<Baselines.Observation>) => {
      const groups = new Map<string, Array<Baselines.Observation>>()
      for (const o of obs) {
        for (const k of [o.key, Baselines.coarseKeyOf(o.key)]) groups.set(k, [...(groups.get(k) ?? []), o])
      }
      const rob = (xs: Array<number>) => {
        const v = [...xs].sort((a, b) => a - b)
        const mid = (w: Array<number>) => w.length % 2 === 1 ? w[w.length >> 1]! : (w[(w.length >> 1) - 1]! + w[w.length >> 1]!) / 2
        const m = mid(v)
        return { median: m, mad: mid(v.map((x) => Math.abs(x - m)).sort((a, b) => a - b)) }
      }
      return [...groups].map(([key, g]) => ({
        key,
        n: g.length,
        days: new Set(g.map((o) => o.day)).size,
        logRatio: rob(g.map((o) => o.logRatio)),
        logVolume: rob(g.map((o) => o.logVolume)),
        trades: rob(g.map((o) => o.trades)),
        avgSize: rob(g.map((o) => o.avgSize))
      })).sort((a, b) => a.key.localeCompare(b.key))
    }
    const sorted = (t: Baselines.Table) => [...t.stats.values()].sort((a, b) => a.key.localeCompare(b.key))
    const before = (day: string, n: number) => all.filter((o) => o.day < day && days.slice(0, days.indexOf(day)).slice(-n).includes(o.day))
    assert.deepStrictEqual(sorted(h.tableFor("2026-06-05", 3)), naive(before("2026-06-05", 3)))
    assert.deepStrictEqual(sorted(Baselines.compute("2026-06-05", [], before("2026-06-05", 3))), naive(before("2026-06-05", 3)))
    // A day already grouped for a table takes a late observation into the next table.
    const late = { day: "2026-06-03", key: keys[0]!, logRatio: 9, logVolume: 9, trades: 99, avgSize: 99 }
    all.push(late)
    h.add(late)
    assert.deepStrictEqual(sorted(h.tableFor("2026-06-04", 20)), naive(before("2026-06-04", 20)))
  })

  it("builds a day's baseline from the N trading days before it, never from the day itself", () => {
    const h = new Baselines.History()
    const days = ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05"]
    days.forEach((d, i) => h.add(obs(d, i)))
    h.add(obs("2026-06-08", 99))
    const t = h.tableFor("2026-06-08", 3)
    assert.deepStrictEqual(t.from, ["2026-06-03", "2026-06-04", "2026-06-05"])
    const s = t.stats.get("C|+1|10:00|0-2d")!
    assert.strictEqual(s.n, 3)
    assert.strictEqual(s.logVolume.median, 3)
    // the coarse key pools the time of day
    assert.strictEqual(t.stats.get("C|+1|*|0-2d")!.n, 3)
  })

  it("keys windows by New York half hour, across the daylight-saving change", () => {
    // 10:00 New York is 14:00 UTC in summer and 15:00 UTC in winter
    assert.strictEqual(Baselines.keyOf("P", -2, Date.parse("2026-07-01T14:05:00Z"), "3-9d"), "P|-2|10:00|3-9d")
    assert.strictEqual(Baselines.keyOf("P", -2, Date.parse("2026-12-01T15:05:00Z"), "3-9d"), "P|-2|10:00|3-9d")
    assert.strictEqual(Baselines.newYork(Date.parse("2026-12-01T03:00:00Z")).day, "2026-11-30")
    // The weeks of the changes: 09:30 New York on the Friday before and the Monday after each Sunday switch.
    for (const [utc, minutes] of [
      ["2026-03-06T14:30:00Z", 570],
      ["2026-03-09T13:30:00Z", 570],
      ["2026-10-30T13:30:00Z", 570],
      ["2026-11-02T14:30:00Z", 570],
      ["2026-03-08T06:59:00Z", 119], // 01:59 EST, a minute before clocks go forward
      ["2026-03-08T07:00:00Z", 180] // 03:00 EDT
    ] as const) {
      assert.strictEqual(Baselines.newYork(Date.parse(utc)).minutes, minutes, utc)
    }
  })

  it("buckets tenor by days to expiration", () => {
    const t = Date.parse("2026-11-18T15:00:00Z")
    assert.strictEqual(Baselines.tenorOf(t, "2026-11-18"), "0-2d")
    assert.strictEqual(Baselines.tenorOf(t, "2026-11-25"), "3-9d")
    assert.strictEqual(Baselines.tenorOf(t, "2026-12-18"), "10d+")
  })
})
