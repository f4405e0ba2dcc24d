import { assert, describe, it } from "@effect/vitest"
import * as Calendar from "../../src/sim/Calendar.js"
import * as Chain from "../../src/sim/Chain.js"
import { Rng } from "../../src/sim/Random.js"

const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString()

const chainOn = (date: string, expirations: number, seed = 1, strikesPerExpiration = 4) =>
  Chain.build(
    {
      tradingDay: Calendar.parseIsoDate(date),
      expirations,
      strikesPerExpiration,
      strikeSpacing: 50,
      underlyingPrice: 21500
    },
    new Rng(seed)
  )

describe("Calendar", () => {
  it("converts a 09:30 New York open to UTC on both sides of the daylight-saving changes", () => {
    const open = (date: string) => iso(Calendar.newYorkToUtcNs(Calendar.parseIsoDate(date), 9 * 60 + 30))
    assert.strictEqual(open("2026-11-18"), "2026-11-18T14:30:00.000Z")
    assert.strictEqual(open("2026-06-10"), "2026-06-10T13:30:00.000Z")
    assert.strictEqual(open("2026-03-06"), "2026-03-06T14:30:00.000Z")
    assert.strictEqual(open("2026-03-09"), "2026-03-09T13:30:00.000Z")
    assert.strictEqual(open("2026-10-30"), "2026-10-30T13:30:00.000Z")
    assert.strictEqual(open("2026-11-02"), "2026-11-02T14:30:00.000Z")
  })

  it("round-trips civil dates and rejects malformed ones", () => {
    for (const d of ["1970-01-01", "2000-02-29", "2026-12-31", "2100-03-01"]) {
      assert.strictEqual(Calendar.isoDate(Calendar.parseIsoDate(d)), d)
    }
    assert.strictEqual(Calendar.weekday(Calendar.parseIsoDate("2026-11-20")), 5)
    assert.throws(() => Calendar.parseIsoDate("2026-02-30"))
    assert.throws(() => Calendar.parseIsoDate("20261118"))
  })
})

describe("Chain", () => {
  it("lists Friday weeklies, the end-of-month and the quarterly, the quarterly last and underlying all", () => {
    const chain = chainOn("2026-11-18", 4)
    assert.deepStrictEqual(
      chain.expiries.map((e) => [`${e.asset}${e.suffix}`, e.kind, e.expiration]),
      [
        ["QN3X6", "weekly", "2026-11-20"],
        ["QN4X6", "weekly", "2026-11-27"],
        ["QNEX6", "monthly", "2026-11-30"],
        ["NQZ6", "quarterly", "2026-12-18"]
      ]
    )
    assert.strictEqual(chain.future.rawSymbol, "NQZ6")
    assert.strictEqual(iso(chain.expiries[3]!.expirationNs), "2026-12-18T14:30:00.000Z")
    assert.strictEqual(iso(chain.expiries[0]!.expirationNs), "2026-11-20T21:00:00.000Z")
  })

  it("keeps only the quarterly for a one-expiration chain and moves to the next quarter when it runs short", () => {
    assert.deepStrictEqual(chainOn("2026-11-18", 1).expiries.map((e) => e.asset + e.suffix), ["NQZ6"])
    const late = chainOn("2026-12-16", 4)
    assert.strictEqual(late.expiries.length, 4)
    assert.strictEqual(late.expiries[3]!.kind, "quarterly")
    assert.strictEqual(late.future.rawSymbol, "NQH7")
    assert.strictEqual(new Set(late.expiries.map((e) => e.expiration)).size, 4)
  })

  it("lists a call and a put per strike around the money with distinct instrument ids", () => {
    const chain = chainOn("2026-11-18", 2)
    assert.strictEqual(chain.options.length, 2 * 4 * 2)
    assert.deepStrictEqual(
      chain.options.slice(0, 4).map((o) => o.rawSymbol),
      ["QN3X6 C21450", "QN3X6 P21450", "QN3X6 C21500", "QN3X6 P21500"]
    )
    const ids = [chain.future.instrumentId, ...chain.options.map((o) => o.instrumentId)]
    assert.strictEqual(new Set(ids).size, ids.length)
  })

  it("keeps a contract's instrument id from one trading day to the next, whatever the seed, as CME does", () => {
    const monday = chainOn("2026-11-16", 3, 1, 6)
    const tuesday = chainOn("2026-11-17", 3, 2, 6)
    const idsOf = (c: Chain.Chain) =>
      new Map([[c.future.rawSymbol, c.future.instrumentId], ...c.options.map((o) => [o.rawSymbol, o.instrumentId] as const)])
    const a = idsOf(monday)
    const b = idsOf(tuesday)
    const both = [...a.keys()].filter((s) => b.has(s))
    // Both days list the quarterly future and at least one expiration's strikes.
    assert.isAbove(both.length, 6)
    for (const s of both) assert.strictEqual(b.get(s), a.get(s), s)
  })
})
