import { assert, describe, it } from "@effect/vitest"
import type { DbnRecord } from "../../src/dbn/Records.js"
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

describe("Cursor.advance", () => {
  /** A non-MBO event record (it counts, like an MBO row); only its header matters to the cursor. */
  const status = (ts: bigint): DbnRecord =>
    ({ _tag: "status", hd: { length: 40, rtype: 0x12, publisher_id: 1, instrument_id: 7, ts_event: ts } }) as unknown as DbnRecord

  it("reads only the chunk's tail yet agrees with the full scan on streams in time order", () => {
    let seed = 42
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    let cursor: Cursor.Cursor | undefined
    let t = T
    for (let round = 0; round < 400; round++) {
      const rows = next(6)
      const ts: Array<bigint> = []
      for (let r = 0; r < rows; r++) ts.push(t += BigInt(next(3) === 0 ? 1 : 0))
      // Events and state records between the rows (state records carry a far-off wall-clock time).
      const others: Array<[number, DbnRecord]> = []
      for (let at = 0; at <= rows; at++) {
        if (next(4) === 0) others.push([at, next(2) === 0 ? status(at < rows ? ts[at]! : t) : system(T + 99_999n)])
      }
      const chunk = chunkOf(ts, undefined, others)
      const fast = Cursor.advance(cursor, chunk)
      assert.deepStrictEqual(fast, Cursor.advanceEvents(cursor, chunk).cursor, `round ${round}`)
      cursor = fast
    }
    assert.isAbove(cursor!.seen, 0)
  })

  it("never moves back over a chunk that ends before the cursor", () => {
    const c = { tsEvent: T + 10n, seen: 2 }
    assert.strictEqual(Cursor.advance(c, chunkOf([T + 3n, T + 4n])), c)
    assert.strictEqual(Cursor.advance(c, chunkOf([])), c)
  })
})
