import { assert, describe, it } from "@effect/vitest"
import { outsideBand } from "../../src/flow/Quality.js"

describe("outsideBand", () => {
  it("never flags a trade at or inside the quotes", () => {
    assert.isFalse(outsideBand(10, 10, 10.5, 0.01, 0))
    assert.isFalse(outsideBand(10.25, 10, 10.5, 0.01, 0))
    assert.isFalse(outsideBand(10.5, 10, 10.5, 0.01, 0))
  })

  it("flags a trade beyond the touch by more than the fraction of the mid", () => {
    assert.isTrue(outsideBand(15.7, 10, 10.5, 0.5, 1))
    assert.isFalse(outsideBand(15.6, 10, 10.5, 0.5, 1))
    assert.isTrue(outsideBand(4.8, 10, 10.5, 0.5, 1))
  })

  it("lets a sweep through a cheap, wide option market pass thanks to the floor", () => {
    assert.isFalse(outsideBand(1.5, 0.5, 1.25, 0.5, 0))
    assert.isFalse(outsideBand(1.8, 0.5, 1.25, 0.5, 1))
    assert.isTrue(outsideBand(1.8, 0.5, 1.25, 0.5, 0))
    assert.isTrue(outsideBand(2.5, 0.5, 1.25, 0.5, 1))
  })

  it("does not judge against an empty side or a crossed book", () => {
    assert.isFalse(outsideBand(100, NaN, 10.5, 0.1, 0))
    assert.isFalse(outsideBand(100, 10, NaN, 0.1, 0))
    assert.isFalse(outsideBand(100, 11, 10.5, 0.1, 0))
  })
})
