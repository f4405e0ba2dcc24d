import { assert, describe, it } from "@effect/vitest"
import { allocMboBatch, mboAt, u64, u64ToNumber } from "../../src/dbn/Batch.js"

describe("allocMboBatch", () => {
  for (const capacity of [0, 1, 7, 100, 2000, 5000]) {
    for (const tsOut of [false, true]) {
      it(`gives ${capacity} zeroed, non-overlapping rows in every column (tsOut ${tsOut})`, () => {
        const b = allocMboBatch(capacity, tsOut)
        assert.strictEqual(b.length, 0)
        assert.strictEqual(b.tsOutHi !== undefined && b.tsOutLo !== undefined, tsOut)
        const columns = Object.entries(b).filter(([k]) => k !== "length").map(([, v]) => v as Uint8Array)
        assert.strictEqual(columns.length, tsOut ? 20 : 18)
        for (const c of columns) {
          assert.strictEqual(c.length, capacity)
          assert.isTrue(c.every((x) => x === 0))
        }
        // Writing every column fully must not clobber another: check byte ranges per buffer.
        const byBuffer = new Map<ArrayBufferLike, Array<[number, number]>>()
        for (const c of columns) {
          const list = byBuffer.get(c.buffer) ?? []
          list.push([c.byteOffset, c.byteOffset + c.byteLength])
          byBuffer.set(c.buffer, list)
        }
        for (const ranges of byBuffer.values()) {
          ranges.sort((x, y) => x[0] - y[0])
          for (let i = 1; i < ranges.length; i++) assert.isAtMost(ranges[i - 1]![1], ranges[i]![0])
        }
        // Batches of either layout have the same property order (one hidden class downstream).
        assert.deepStrictEqual(Object.keys(b), Object.keys(allocMboBatch(1, tsOut)))
      })
    }
  }
})

describe("u64 helpers and mboAt", () => {
  it("combines halves exactly", () => {
    assert.strictEqual(u64(0xffffffff, 0xffffffff), 2n ** 64n - 1n)
    assert.strictEqual(u64ToNumber(0x1fffff, 0xffffffff), 2 ** 53 - 1)
  })

  it("materialises a row with a negative price, an empty action and ts_out", () => {
    const b = allocMboBatch(1, true)
    b.length = 1
    b.priceHi[0] = -1
    b.priceLo[0] = 0xfffffffb
    b.side[0] = 0x42
    b.tsOutHi![0] = 1
    const r = mboAt(b, 0)
    assert.strictEqual(r.price, -5n)
    assert.strictEqual(r.action, "")
    assert.strictEqual(r.side, "B")
    assert.strictEqual(r.ts_out, 2n ** 32n)
    assert.strictEqual(r.hd.length, 64)
  })
})
