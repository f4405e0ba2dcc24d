import { assert, describe, it } from "@effect/vitest"
import * as Cursor from "../../src/source/Cursor.js"
import { chunkOf, idsOf, system } from "./Support.js"

const T = 1_700_000_000_000_000_000n

describe("Cursor", () => {
  it("advances to the last ts_event and counts the records that share it", () => {
    const c = Cursor.advance(undefined, chunkOf([T, T + 1n, T + 1n, T + 1n]))
    assert.deepStrictEqual(c, { tsEvent: T + 1n, seen: 3 })
    const d = Cursor.advance(c, chunkOf([T + 1n, T + 1n]))
    assert.deepStrictEqual(d, { tsEvent: T + 1n, seen: 5 })
    assert.deepStrictEqual(Cursor.advance(d, chunkOf([T + 2n])), { tsEvent: T + 2n, seen: 1 })
  })

  it("round-trips through its text form with exact 64-bit timestamps", () => {
    const c = { tsEvent: 18446744073709551614n, seen: 7 }
    assert.deepStrictEqual(Cursor.decode(Cursor.encode(c)), c)
    assert.strictEqual(Cursor.decode("not json"), undefined)
  })

  it("drops exactly the records already processed when many share one ts_event", () => {
    // 5 records at T+1 were delivered before a disconnect: only the first 3 had been processed.
    const replay = chunkOf([T + 1n, T + 1n, T + 1n, T + 1n, T + 1n, T + 2n], [1, 2, 3, 4, 5, 6])
    const skipper = new Cursor.Skipper({ tsEvent: T + 1n, seen: 3 })
    assert.deepStrictEqual(idsOf(skipper.apply(replay)), [4, 5, 6])
    assert.isTrue(skipper.passed)
  })

  it("skips across chunk boundaries and passes later chunks through untouched", () => {
    const skipper = new Cursor.Skipper({ tsEvent: T + 1n, seen: 2 })
    assert.deepStrictEqual(idsOf(skipper.apply(chunkOf([T, T + 1n], [1, 2]))), [])
    assert.deepStrictEqual(idsOf(skipper.apply(chunkOf([T + 1n, T + 1n], [3, 4]))), [4])
    const later = chunkOf([T + 1n], [5])
    assert.strictEqual(skipper.apply(later), later)
  })

  it("keeps state records (system messages) while skipping events, preserving their positions", () => {
    const chunk = chunkOf([T, T + 5n], [1, 2], [[1, system(T)]])
    const out = new Cursor.Skipper({ tsEvent: T, seen: 1 }).apply(chunk)
    assert.deepStrictEqual(idsOf(out), [2])
    assert.strictEqual(out.others.length, 1)
    assert.deepStrictEqual(out.othersAt, [0])
  })
})

describe("Cursor state records", () => {
  it("ignores definitions and control messages whose ts_event is wall time when advancing", () => {
    const c = Cursor.advance(undefined, chunkOf([T, T], [1, 2], [[1, system(T + 10_000_000_000n, "Subscription ack")]]))
    assert.deepStrictEqual(c, { tsEvent: T, seen: 2 })
  })
})
