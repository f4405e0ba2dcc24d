import { assert, describe, it } from "@effect/vitest"
import * as Moneyness from "../../src/flow/Moneyness.js"

describe("Moneyness", () => {
  it("recovers the forward from put–call parity on the pairs nearest the money", () => {
    const F = 21_537
    const pairs = [21_400, 21_450, 21_500, 21_550, 21_600, 21_650].map((strike) => ({
      strike,
      callMid: Math.max(0, F - strike) + 100,
      putMid: Math.max(0, strike - F) + 100
    }))
    // a deep pair with a stale quote must not move the estimate
    pairs.push({ strike: 20_000, callMid: 1_000, putMid: 5 })
    assert.strictEqual(Moneyness.parityForward(pairs), F)
  })

  it("gives no underlying without a two-sided pair rather than a default", () => {
    assert.strictEqual(Moneyness.parityForward([]), undefined)
    assert.strictEqual(Moneyness.parityForward([{ strike: 21_500, callMid: 0, putMid: 40 }]), undefined)
  })

  it("measures moneyness in strikes out of the money: calls above, puts below the underlying", () => {
    assert.strictEqual(Moneyness.strikeSpacing([21_600, 21_500, 21_550, 21_550]), 50)
    assert.strictEqual(Moneyness.otmStrikes("C", 21_600, 21_500, 50), 2)
    assert.strictEqual(Moneyness.otmStrikes("P", 21_600, 21_500, 50), -2)
    assert.strictEqual(Moneyness.bucketOf(2.4), 2)
    assert.strictEqual(Moneyness.bucketOf(-30), -8)
  })
})
