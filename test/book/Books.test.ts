import { assert, describe, it } from "@effect/vitest"
import { Books } from "../../src/book/Books.js"
import { batch, INSTRUMENT, type Row } from "./support.js"

const SNAP = 40
const SNAP_LAST = 168

const levels = (books: Books, side: "B" | "A", instrument = INSTRUMENT) =>
  books.get(instrument)!.levels(side).map((l) => [l.price / 1e9, l.size, l.count])

const applied = (rows: ReadonlyArray<Row>): Books => {
  const books = new Books()
  books.apply(batch(rows))
  return books
}

describe("Books", () => {
  it("keeps one book per instrument", () => {
    const books = applied([
      { action: "A", id: 1, side: "B", price: 10, size: 1, instrument: 1 },
      { action: "A", id: 1, side: "A", price: 20, size: 2, instrument: 2 },
      { action: "C", id: 1, side: "B", price: 10, size: 1, instrument: 1 }
    ])
    assert.strictEqual(books.size, 2)
    assert.strictEqual(books.get(1)!.orderCount, 0)
    assert.deepStrictEqual(levels(books, "A", 2), [[20, 2, 1]])
    assert.strictEqual(books.counts.unknownCancels, 0)
    assert.strictEqual(books.counts.duplicateAdds, 0)
  })

  it("never changes the book on Trade, Fill or None records", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "T", id: 9, side: "B", price: 10, size: 2 },
      { action: "F", id: 1, side: "A", price: 10, size: 2 },
      { action: "N", id: 1, side: "N", price: 10, size: 5 }
    ])
    assert.deepStrictEqual(levels(books, "A"), [[10, 5, 1]])
    assert.strictEqual(books.get(INSTRUMENT)!.orderCount, 1)
  })

  it("empties the book on a Clear record", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "A", id: 2, side: "B", price: 9, size: 5 },
      { action: "R" }
    ])
    assert.strictEqual(books.get(INSTRUMENT)!.orderCount, 0)
    assert.strictEqual(books.counts.clears, 1)
  })

  it("replaces the book with a snapshot that starts with a Clear", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "R", flags: SNAP },
      { action: "A", id: 2, side: "B", price: 9, size: 3, flags: SNAP },
      { action: "A", id: 3, side: "A", price: 11, size: 4, flags: SNAP_LAST },
      { action: "A", id: 4, side: "A", price: 11, size: 1 }
    ])
    assert.deepStrictEqual(levels(books, "B"), [[9, 3, 1]])
    assert.deepStrictEqual(levels(books, "A"), [[11, 5, 2]])
    assert.strictEqual(books.counts.snapshots, 1)
    assert.strictEqual(books.counts.snapshotRecords, 3)
    assert.strictEqual(books.counts.duplicateAdds, 0)
    assert.isFalse(books.get(INSTRUMENT)!.inSnapshot)
  })

  it("starts a snapshot without a leading Clear from an empty book, as older files do", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "A", id: 2, side: "B", price: 9, size: 5 },
      { action: "A", id: 1, side: "A", price: 10, size: 5, flags: SNAP },
      { action: "A", id: 3, side: "B", price: 8, size: 2, flags: SNAP }
    ])
    assert.deepStrictEqual(levels(books, "A"), [[10, 5, 1]])
    assert.deepStrictEqual(levels(books, "B"), [[8, 2, 1]])
    assert.strictEqual(books.counts.duplicateAdds, 0)
  })

  it("ends a snapshot at the first record without F_SNAPSHOT, so a later snapshot replaces the book again", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5, flags: SNAP },
      { action: "A", id: 2, side: "A", price: 10.25, size: 5, flags: SNAP },
      { action: "C", id: 2, side: "A", price: 10.25, size: 5 },
      { action: "A", id: 1, side: "A", price: 10, size: 5, flags: SNAP },
      { action: "A", id: 7, side: "B", price: 9, size: 1, flags: SNAP }
    ])
    assert.strictEqual(books.counts.snapshots, 2)
    assert.strictEqual(books.counts.duplicateAdds, 0)
    assert.deepStrictEqual(levels(books, "A"), [[10, 5, 1]])
    assert.deepStrictEqual(levels(books, "B"), [[9, 1, 1]])
  })

  it("tracks snapshots per instrument when instruments interleave", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5, instrument: 1 },
      { action: "R", flags: SNAP, instrument: 1 },
      { action: "R", flags: SNAP, instrument: 2 },
      { action: "A", id: 2, side: "A", price: 10, size: 1, flags: SNAP, instrument: 1 },
      { action: "A", id: 3, side: "A", price: 20, size: 2, flags: SNAP_LAST, instrument: 2 },
      { action: "A", id: 4, side: "A", price: 10, size: 3, flags: SNAP_LAST, instrument: 1 }
    ])
    assert.deepStrictEqual(levels(books, "A", 1), [[10, 4, 2]])
    assert.deepStrictEqual(levels(books, "A", 2), [[20, 2, 1]])
    assert.strictEqual(books.counts.snapshots, 2)
  })

  it("counts every anomaly and keeps going", () => {
    const books = applied([
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "C", id: 2, side: "A", price: 10, size: 5 },
      { action: "M", id: 3, side: "B", price: 9, size: 5 },
      { action: "C", id: 3, side: "B", price: 9, size: 6 },
      { action: "A", id: 4, side: "N", price: 9, size: 6 },
      { action: "A", id: 5, side: "B", price: 9, size: 0 },
      { action: "M", id: 1, side: "B", price: 10, size: 5 },
      { action: "A", id: 6, side: "B", price: 9, size: 1, flags: 130 | 4 }
    ])
    const c = books.counts
    assert.deepStrictEqual(
      [c.duplicateAdds, c.unknownCancels, c.unknownModifies, c.negativeSizes, c.badSides, c.badOrders, c.sideChanges],
      [1, 1, 1, 1, 1, 1, 1]
    )
    assert.strictEqual(c.maybeBadBook, 1)
    assert.deepStrictEqual(levels(books, "A"), [[10, 5, 1]])
    assert.deepStrictEqual(levels(books, "B"), [[9, 1, 1]])
    assert.deepStrictEqual(books.get(INSTRUMENT)!.checkInvariants(), [])
  })

  it("applies only the requested rows of a batch", () => {
    const b = batch([
      { action: "A", id: 1, side: "A", price: 10, size: 5 },
      { action: "A", id: 2, side: "A", price: 11, size: 5 },
      { action: "A", id: 3, side: "A", price: 12, size: 5 }
    ])
    const books = new Books()
    books.apply(b, 1, 2)
    assert.deepStrictEqual(levels(books, "A"), [[11, 5, 1]])
  })

  it("drops a deleted instrument's book", () => {
    const books = applied([{ action: "A", id: 1, side: "A", price: 10, size: 5 }])
    assert.isTrue(books.delete(INSTRUMENT))
    assert.isUndefined(books.get(INSTRUMENT))
    assert.strictEqual(books.getOrCreate(INSTRUMENT).orderCount, 0)
  })
})
