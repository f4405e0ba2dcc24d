import { assert, describe, it } from "@effect/vitest"
import type { Book } from "../../src/book/Book.js"
import { Books } from "../../src/book/Books.js"
import type { DecodedChunk } from "../../src/dbn/Batch.js"
import { fixturesPresent } from "../support/Fixtures.js"
import { decodeFixture } from "./support.js"

const ESH4_1224 = "nautilus_trader/esh4-glbx-mdp3-20231224.mbo.dbn.zst"
const ESH4_1225 = "nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
const ESM4 = "nautilus_trader/orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst"

interface State {
  readonly orders: number
  readonly bidLevels: number
  readonly askLevels: number
  readonly bid: string
  readonly ask: string
}

const stateOf = (book: Book): State => ({
  orders: book.orderCount,
  bidLevels: book.bidLevels,
  askLevels: book.askLevels,
  bid: `${book.bestBidPrice / 1e9} x ${book.bestBidSize} (${book.bestBidCount})`,
  ask: `${book.bestAskPrice / 1e9} x ${book.bestAskSize} (${book.bestAskCount})`
})

/** Applies chunks to `books`, calling `at(n)` after exactly `n` MBO records have been applied (for each n asked). */
const replay = (
  books: Books,
  chunks: ReadonlyArray<DecodedChunk>,
  stops: ReadonlyArray<number>,
  at: (n: number) => void
) => {
  let done = 0
  for (const c of chunks) {
    let i = 0
    for (const stop of stops) {
      if (stop > done + i && stop <= done + c.mbo.length) {
        books.apply(c.mbo, i, stop - done)
        i = stop - done
        at(stop)
      }
    }
    books.apply(c.mbo, i, c.mbo.length)
    done += c.mbo.length
  }
  return done
}

/** Volume and prints of T records by their side byte. */
const tradesBySide = (chunks: ReadonlyArray<DecodedChunk>) => {
  const out: Record<string, { volume: number; prints: number }> = {}
  for (const c of chunks) {
    for (let i = 0; i < c.mbo.length; i++) {
      if (c.mbo.action[i] !== 0x54) continue
      const s = String.fromCharCode(c.mbo.side[i]!)
      const e = (out[s] ??= { volume: 0, prints: 0 })
      e.volume += c.mbo.size[i]!
      e.prints++
    }
  }
  return out
}

describe.skipIf(!fixturesPresent)("Books over real GLBX MBO files (spec §11)", () => {
  it("reaches the ESH4 2023-12-25 states after the snapshot and at the end", () => {
    const chunks = decodeFixture(ESH4_1225, 10_000)
    const books = new Books()
    const states: Array<State> = []
    const total = replay(books, chunks, [8_725], () => states.push(stateOf(books.get(17077)!)))
    states.push(stateOf(books.get(17077)!))
    assert.strictEqual(total, 68_792)
    assert.deepStrictEqual(states, [
      { orders: 8_725, bidLevels: 892, askLevels: 559, bid: "4799 x 16 (4)", ask: "4799.5 x 23 (4)" },
      { orders: 11_217, bidLevels: 922, askLevels: 565, bid: "4810 x 22 (22)", ask: "4810.25 x 28 (18)" }
    ])
    const c = books.counts
    assert.deepStrictEqual(
      [c.unknownCancels, c.unknownModifies, c.duplicateAdds, c.negativeSizes, c.badSides, c.badOrders, c.sideChanges],
      [0, 0, 0, 0, 0, 0, 0]
    )
    assert.strictEqual(c.snapshots, 1)
    assert.deepStrictEqual(books.get(17077)!.checkInvariants(), [])
    assert.deepStrictEqual(tradesBySide(chunks), {
      B: { volume: 5_322, prints: 1_542 },
      A: { volume: 4_526, prints: 1_430 },
      N: { volume: 44, prints: 1 }
    })
  })

  it("reaches the same end state when the 2023-12-24 snapshot file comes first", () => {
    const books = new Books()
    replay(books, decodeFixture(ESH4_1224), [], () => {})
    assert.deepStrictEqual(stateOf(books.get(17077)!), {
      orders: 8_725,
      bidLevels: 892,
      askLevels: 559,
      bid: "4799 x 16 (4)",
      ask: "4799.5 x 23 (4)"
    })
    replay(books, decodeFixture(ESH4_1225), [], () => {})
    assert.deepStrictEqual(stateOf(books.get(17077)!), {
      orders: 11_217,
      bidLevels: 922,
      askLevels: 565,
      bid: "4810 x 22 (22)",
      ask: "4810.25 x 28 (18)"
    })
    // The second file's snapshot replaces the book, so its re-sent orders are not duplicates.
    assert.strictEqual(books.counts.duplicateAdds, 0)
    assert.strictEqual(books.counts.snapshots, 2)
  })

  it("reaches the ESM4 2024-05-08 states after the snapshot and at the end", () => {
    const chunks = decodeFixture(ESM4, 4_096)
    const books = new Books()
    const states: Array<State> = []
    const total = replay(books, chunks, [13_601], () => states.push(stateOf(books.get(5602)!)))
    states.push(stateOf(books.get(5602)!))
    assert.strictEqual(total, 13_796)
    assert.deepStrictEqual(states, [
      { orders: 13_600, bidLevels: 975, askLevels: 572, bid: "5214 x 26 (19)", ask: "5214.25 x 24 (13)" },
      { orders: 13_598, bidLevels: 976, askLevels: 571, bid: "5214 x 28 (22)", ask: "5214.25 x 17 (11)" }
    ])
    assert.strictEqual(books.counts.clears, 1)
    assert.strictEqual(books.counts.unknownCancels + books.counts.unknownModifies + books.counts.duplicateAdds, 0)
    assert.deepStrictEqual(tradesBySide(chunks), { B: { volume: 6, prints: 5 } })
    assert.deepStrictEqual(books.get(5602)!.checkInvariants(), [])
  })
})
