import { assert, describe, it } from "@effect/vitest"
import { type ActionCounts, Book, BookStore, halves, Outcome } from "../../src/book/Book.js"
import { Books } from "../../src/book/Books.js"
import { Flags } from "../../src/dbn/Constants.js"
import { batch, NS_PER_S, type Row, T0 } from "./support.js"

const px = (points: number): number => Math.round(points * 1e9)
const hiOf = (id: bigint): number => Number(id >> 32n)
const loOf = (id: bigint): number => Number(id & 0xffffffffn)
/** int32 halves of a price in points. */
const pxHalves = (points: number) => halves(BigInt(px(points)))

/** A Book driven with bigint ids, side letters and prices in points. */
class TestBook {
  readonly book: Book
  constructor(store?: BookStore) {
    this.book = new Book(1, store)
  }
  add(id: bigint | number, side: "B" | "A" | "N", price: number, size: number): number {
    const i = BigInt(id)
    const [ph, pl] = pxHalves(price)
    return this.book.add(hiOf(i), loOf(i), side.charCodeAt(0), ph, pl, size)
  }
  cancel(id: bigint | number, size: number): number {
    const i = BigInt(id)
    return this.book.cancel(hiOf(i), loOf(i), size)
  }
  modify(id: bigint | number, side: "B" | "A" | "N", price: number, size: number): number {
    const i = BigInt(id)
    const [ph, pl] = pxHalves(price)
    return this.book.modify(hiOf(i), loOf(i), side.charCodeAt(0), ph, pl, size)
  }
  queue(side: "B" | "A", price: number): Array<number> {
    return this.book.queue(side, px(price)).map(Number)
  }
  levels(side: "B" | "A"): Array<[number, number, number]> {
    return this.book.levels(side).map((l) => [l.price / 1e9, l.size, l.count])
  }
  check(): void {
    assert.deepStrictEqual(this.book.checkInvariants(), [])
  }
}

describe("Book", () => {
  it("queues adds at the back of their level and keeps levels sorted best first", () => {
    const t = new TestBook()
    t.add(1, "B", 100, 5)
    t.add(2, "B", 100.25, 3)
    t.add(3, "B", 100, 2)
    t.add(4, "B", 99.5, 1)
    t.add(5, "A", 101, 4)
    t.add(6, "A", 100.5, 6)
    t.add(7, "A", 100.5, 1)
    assert.deepStrictEqual(t.levels("B"), [[100.25, 3, 1], [100, 7, 2], [99.5, 1, 1]])
    assert.deepStrictEqual(t.levels("A"), [[100.5, 7, 2], [101, 4, 1]])
    assert.deepStrictEqual(t.queue("B", 100), [1, 3])
    assert.deepStrictEqual(t.queue("A", 100.5), [6, 7])
    assert.strictEqual(t.book.orderCount, 7)
    assert.strictEqual(t.book.bidLevels, 3)
    assert.strictEqual(t.book.askLevels, 2)
    t.check()
  })

  it("reports the best bid and ask with size and order count", () => {
    const t = new TestBook()
    assert.isNaN(t.book.bestBidPrice)
    assert.isNaN(t.book.bestAskPrice)
    assert.strictEqual(t.book.bestBidSize, 0)
    t.add(1, "B", 4799, 10)
    t.add(2, "B", 4799, 6)
    t.add(3, "B", 4798.75, 50)
    t.add(4, "A", 4799.5, 23)
    assert.strictEqual(t.book.bestBidPrice, px(4799))
    assert.strictEqual(t.book.bestBidSize, 16)
    assert.strictEqual(t.book.bestBidCount, 2)
    assert.strictEqual(t.book.bestAskPrice, px(4799.5))
    assert.strictEqual(t.book.bestAskSize, 23)
    assert.strictEqual(t.book.bestAskCount, 1)
  })

  it("reduces an order in place on a partial cancel and keeps its priority", () => {
    const t = new TestBook()
    t.add(1, "A", 10, 5)
    t.add(2, "A", 10, 5)
    assert.strictEqual(t.cancel(1, 2), Outcome.OK)
    assert.deepStrictEqual(t.queue("A", 10), [1, 2])
    assert.strictEqual(t.book.order(1n)?.size, 3)
    assert.deepStrictEqual(t.levels("A"), [[10, 8, 2]])
    t.check()
  })

  it("removes an order on a full cancel and the level when it empties", () => {
    const t = new TestBook()
    t.add(1, "A", 10, 5)
    t.add(2, "A", 10.25, 5)
    assert.strictEqual(t.cancel(1, 5), Outcome.OK)
    assert.deepStrictEqual(t.levels("A"), [[10.25, 5, 1]])
    assert.isUndefined(t.book.order(1n))
    assert.strictEqual(t.book.orderCount, 1)
    t.check()
  })

  it("removes the order when a cancel exceeds its size, never leaving a negative size", () => {
    const t = new TestBook()
    t.add(1, "B", 10, 5)
    assert.strictEqual(t.cancel(1, 7), Outcome.OVER_CANCEL)
    assert.strictEqual(t.book.orderCount, 0)
    assert.strictEqual(t.book.bidLevels, 0)
    t.check()
  })

  it("ignores a cancel of an unknown order and reports it", () => {
    const t = new TestBook()
    t.add(1, "B", 10, 5)
    assert.strictEqual(t.cancel(99, 5), Outcome.UNKNOWN_CANCEL)
    assert.deepStrictEqual(t.levels("B"), [[10, 5, 1]])
    t.check()
  })

  it("adds an unknown order on modify and reports it", () => {
    const t = new TestBook()
    assert.strictEqual(t.modify(5, "A", 11, 3), Outcome.UNKNOWN_MODIFY)
    assert.deepStrictEqual(t.levels("A"), [[11, 3, 1]])
    t.check()
  })

  it("moves an order to the back of its new level when a modify changes the price", () => {
    const t = new TestBook()
    t.add(1, "B", 10, 1)
    t.add(2, "B", 10.25, 4)
    t.add(3, "B", 10.25, 4)
    assert.strictEqual(t.modify(1, "B", 10.25, 2), Outcome.OK)
    assert.deepStrictEqual(t.queue("B", 10.25), [2, 3, 1])
    assert.deepStrictEqual(t.levels("B"), [[10.25, 10, 3]])
    t.check()
  })

  it("moves an order to the back of its level when a modify raises its size at the same price", () => {
    const t = new TestBook()
    t.add(1, "A", 10, 1)
    t.add(2, "A", 10, 1)
    t.add(3, "A", 10, 1)
    assert.strictEqual(t.modify(1, "A", 10, 2), Outcome.OK)
    assert.deepStrictEqual(t.queue("A", 10), [2, 3, 1])
    assert.deepStrictEqual(t.levels("A"), [[10, 4, 3]])
    t.check()
  })

  it("keeps an order's place when a modify lowers or keeps its size at the same price", () => {
    const t = new TestBook()
    t.add(1, "A", 10, 5)
    t.add(2, "A", 10, 1)
    assert.strictEqual(t.modify(1, "A", 10, 2), Outcome.OK)
    assert.deepStrictEqual(t.queue("A", 10), [1, 2])
    assert.strictEqual(t.modify(1, "A", 10, 2), Outcome.OK)
    assert.deepStrictEqual(t.queue("A", 10), [1, 2])
    assert.deepStrictEqual(t.levels("A"), [[10, 3, 2]])
    t.check()
  })

  it("moves a lone order's level when it is re-quoted to a price with no level, keeping the ladder sorted", () => {
    const t = new TestBook()
    for (const [id, price] of [[1, 10], [2, 10.25], [3, 10.5], [4, 10.75]] as const) t.add(id, "A", price, id)
    assert.strictEqual(t.modify(1, "A", 11, 7), Outcome.OK)
    assert.deepStrictEqual(t.levels("A"), [[10.25, 2, 1], [10.5, 3, 1], [10.75, 4, 1], [11, 7, 1]])
    assert.strictEqual(t.modify(1, "A", 10.125, 8), Outcome.OK)
    assert.deepStrictEqual(t.levels("A"), [[10.125, 8, 1], [10.25, 2, 1], [10.5, 3, 1], [10.75, 4, 1]])
    assert.strictEqual(t.modify(4, "A", 10.625, 1), Outcome.OK)
    assert.deepStrictEqual(t.levels("A").map(([p]) => p), [10.125, 10.25, 10.5, 10.625])
    assert.strictEqual(t.book.bestAskPrice, px(10.125))
    t.check()
  })

  it("keeps books that share a store apart, the same order id included", () => {
    const store = new BookStore()
    const a = new TestBook(store)
    const b = new TestBook(store)
    a.add(7, "B", 10, 1)
    b.add(7, "A", 20, 2)
    assert.strictEqual(a.cancel(7, 1), Outcome.OK)
    assert.strictEqual(b.book.order(7n)?.size, 2)
    for (let i = 0; i < 3000; i++) a.add(100 + i, "B", 10 - (i % 50) / 4, 1)
    b.add(8, "A", 20.25, 3)
    a.book.clear()
    assert.strictEqual(store.orders, 2)
    assert.deepStrictEqual(b.levels("A"), [[20, 2, 1], [20.25, 3, 1]])
    a.check()
    b.check()
  })

  it("keeps the resting side when a modify names the other side", () => {
    const t = new TestBook()
    t.add(1, "B", 10, 5)
    assert.strictEqual(t.modify(1, "A", 10.5, 5), Outcome.SIDE_CHANGE)
    assert.deepStrictEqual(t.levels("B"), [[10.5, 5, 1]])
    assert.strictEqual(t.book.askLevels, 0)
    t.check()
  })

  it("removes an order modified to size 0", () => {
    const t = new TestBook()
    t.add(1, "B", 10, 5)
    assert.strictEqual(t.modify(1, "B", 10, 0), Outcome.OK)
    assert.strictEqual(t.book.orderCount, 0)
    t.check()
  })

  it("replaces an order added twice and reports the duplicate", () => {
    const t = new TestBook()
    t.add(1, "B", 10, 5)
    t.add(2, "B", 10, 5)
    assert.strictEqual(t.add(1, "A", 11, 2), Outcome.DUPLICATE_ADD)
    assert.strictEqual(t.book.orderCount, 2)
    assert.deepStrictEqual(t.levels("B"), [[10, 5, 1]])
    assert.deepStrictEqual(t.levels("A"), [[11, 2, 1]])
    t.check()
  })

  it("ignores adds with side N, size 0 or an undefined price", () => {
    const t = new TestBook()
    assert.strictEqual(t.add(1, "N", 10, 5), Outcome.BAD_SIDE)
    assert.strictEqual(t.add(2, "B", 10, 0), Outcome.BAD_ORDER)
    assert.strictEqual(t.book.add(0, 3, 0x42, 0x7fffffff, 0xffffffff, 5), Outcome.BAD_ORDER)
    assert.strictEqual(t.book.orderCount, 0)
    t.check()
  })

  it("empties on clear and keeps working afterwards", () => {
    const t = new TestBook()
    for (let i = 1; i <= 100; i++) t.add(i, i % 2 === 0 ? "B" : "A", i % 2 === 0 ? 100 - i / 100 : 101 + i / 100, i)
    t.book.clear()
    assert.strictEqual(t.book.orderCount, 0)
    assert.strictEqual(t.book.bidLevels + t.book.askLevels, 0)
    assert.isFalse(t.book.has(0, 2))
    t.add(2, "B", 99, 1)
    assert.deepStrictEqual(t.levels("B"), [[99, 1, 1]])
    t.check()
  })

  it("gives memory back when a large book is cleared", () => {
    const t = new TestBook()
    for (let i = 1; i <= 10_000; i++) t.add(i, "B", 100 + (i % 300) / 4, 1)
    t.check()
    t.book.clear()
    t.add(1, "A", 1, 1)
    assert.strictEqual(t.book.orderCount, 1)
    t.check()
  })

  it("tells apart order ids above 2^53 that share their low 32 bits", () => {
    const t = new TestBook()
    const big = (1n << 63n) + 5n
    const huge = 0xfffffffffffffffen
    t.add(5, "B", 10, 1)
    t.add(big, "B", 10, 2)
    t.add(huge, "A", 11, 3)
    t.add((1n << 53n) + 5n, "B", 10, 4)
    assert.deepStrictEqual(t.book.queue("B", px(10)), [5n, big, (1n << 53n) + 5n])
    assert.strictEqual(t.cancel(big, 2), Outcome.OK)
    assert.deepStrictEqual(t.book.queue("B", px(10)), [5n, (1n << 53n) + 5n])
    assert.strictEqual(t.book.order(huge)?.size, 3)
    t.check()
  })

  it("runs a batch's book rows up to the first row it must leave to the caller", () => {
    const rows: Array<Row> = [
      { action: "A", id: 1, side: "B", price: 100, size: 5, instrument: 1 },
      { action: "A", id: 2, side: "A", price: 101, size: 3, instrument: 1 },
      { action: "C", id: 1, size: 2, instrument: 1 },
      { action: "M", id: 2, side: "A", price: 100.5, size: 3, instrument: 1 },
      { action: "T", side: "A", price: 100, size: 1, instrument: 1 }, // 4: a trade
      { action: "A", id: 3, side: "B", price: 99, size: 1, instrument: 1 },
      { action: "A", id: 4, side: "B", price: 99, size: 1, instrument: 2 }, // 6: another instrument
      { action: "A", id: 5, side: "B", price: 98, size: 1, instrument: 1, flags: Flags.SNAPSHOT }, // 7: a snapshot row
      { action: "A", id: 6, side: "B", price: 97, size: 1, instrument: 1 },
      { action: "A", id: 7, side: "B", price: 96, size: 1, instrument: 1, ts: T0 + 300n * NS_PER_S } // 9: late
    ]
    const b = batch(rows)
    const book = new Book(1)
    const counts: ActionCounts = { adds: 0, cancels: 0, modifies: 0 }
    const none = 0xffffffff
    assert.strictEqual(book.run(b, 0, b.length, none, none, counts), 4)
    assert.deepStrictEqual(counts, { adds: 2, cancels: 1, modifies: 1 })
    assert.strictEqual(book.bestBidPrice, px(100))
    assert.strictEqual(book.bestBidSize, 3)
    assert.strictEqual(book.bestAskPrice, px(100.5))
    assert.strictEqual(book.run(b, 4, b.length, none, none, counts), 4)
    assert.strictEqual(book.run(b, 5, b.length, none, none, counts), 6)
    assert.strictEqual(book.run(b, 7, b.length, none, none, counts), 7)
    const late = T0 + 300n * NS_PER_S
    assert.strictEqual(book.run(b, 8, b.length, Number(late >> 32n), Number(late & 0xffffffffn), counts), 9)
    assert.strictEqual(book.run(b, 9, b.length, none, none, counts), 10)
    assert.deepStrictEqual(book.levels("B").map((l) => l.price / 1e9), [100, 99, 97, 96])
    assert.strictEqual(book.lastOutcome, Outcome.OK)
    assert.deepStrictEqual(book.checkInvariants(), [])
  })

  it("ends a run after a row with an anomaly, applied, and reports its outcome", () => {
    const b = batch([
      { action: "A", id: 1, side: "B", price: 100, size: 5 },
      { action: "C", id: 9, size: 1 },
      { action: "M", id: 8, side: "A", price: 101, size: 2 },
      { action: "A", id: 1, side: "B", price: 99, size: 4 },
      { action: "C", id: 8, size: 7 }
    ])
    const book = new Book(42)
    const counts: ActionCounts = { adds: 0, cancels: 0, modifies: 0 }
    const none = 0xffffffff
    const outcomes: Array<number> = []
    for (let i = 0; i < b.length;) {
      i = book.run(b, i, b.length, none, none, counts)
      outcomes.push(book.lastOutcome)
    }
    assert.deepStrictEqual(outcomes, [
      Outcome.UNKNOWN_CANCEL,
      Outcome.UNKNOWN_MODIFY,
      Outcome.DUPLICATE_ADD,
      Outcome.OVER_CANCEL
    ])
    assert.deepStrictEqual(counts, { adds: 2, cancels: 2, modifies: 1 })
    assert.deepStrictEqual(book.levels("B"), [{ price: px(99), size: 4, count: 1 }])
    assert.strictEqual(book.askLevels, 0)
    assert.deepStrictEqual(book.checkInvariants(), [])
  })

  it("builds the same books from runs over a batch (Books.apply) as from one record at a time", () => {
    let seed = 99
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const rows: Array<Row> = []
    const live: Array<Array<{ id: number; side: "A" | "B"; price: number }>> = [[], [], []]
    for (let k = 0; k < 40_000; k++) {
      const instrument = rand(10) < 8 && rows.length > 0 ? rows[rows.length - 1]!.instrument! : 1 + rand(3)
      const orders = live[instrument - 1]!
      const r = rand(100)
      if (r < 40 || orders.length === 0) {
        const side = rand(2) === 0 ? "B" : "A"
        const price = side === "B" ? 100 - rand(40) / 4 : 100.25 + rand(40) / 4
        const id = k + 1
        orders.push({ id, side, price })
        rows.push({ action: "A", id, side, price, size: 1 + rand(9), instrument })
      } else if (r < 75) {
        const at = rand(orders.length)
        const o = orders[at]!
        if (rand(3) === 0) rows.push({ action: "C", id: o.id, size: 1, instrument })
        else {
          rows.push({ action: "C", id: o.id, size: 100, instrument })
          orders[at] = orders[orders.length - 1]!
          orders.pop()
        }
      } else if (r < 97) {
        const o = orders[rand(orders.length)]!
        o.price += (o.side === "B" ? -0.25 : 0.25) * (rand(5) - 2)
        rows.push({ action: "M", id: o.id, side: o.side, price: o.price, size: 1 + rand(9), instrument })
      } else if (r < 99) {
        rows.push({ action: "T", side: "A", price: 100, size: 1, instrument })
      } else {
        rows.push({ action: "R", instrument })
        orders.length = 0
      }
    }
    const b = batch(rows)
    const one = new Books()
    for (let i = 0; i < b.length; i++) {
      one.applyRecord(
        one.getOrCreate(b.instrumentId[i]!),
        b.action[i]!,
        b.side[i]!,
        b.flags[i]!,
        b.orderIdHi[i]! | 0,
        b.orderIdLo[i]! | 0,
        b.priceHi[i]!,
        b.priceLo[i]! | 0,
        b.size[i]!
      )
    }
    // Books.apply takes the runs through `Book.run` and the rest through `applyRecord`; the rows the runs applied
    // are summed from the outside.
    const runs = new Books()
    const run = Book.prototype.run
    let viaRun = 0
    Book.prototype.run = function(this: Book, ...args: Parameters<Book["run"]>) {
      const j = run.apply(this, args)
      // Only runs over the batch itself: the single-record path runs too, on a one-row batch of its own.
      if (args[0] === b) viaRun += j - args[1]
      return j
    }
    try {
      runs.apply(b)
    } finally {
      Book.prototype.run = run
    }
    assert.isAbove(viaRun, b.length * 0.9)
    assert.deepStrictEqual(runs.counts, one.counts)
    for (const id of [1, 2, 3]) {
      const x = one.get(id)!
      const y = runs.get(id)!
      for (const side of ["B", "A"] as const) {
        assert.deepStrictEqual(y.levels(side), x.levels(side))
        for (const l of x.levels(side)) assert.deepStrictEqual(y.queue(side, l.price), x.queue(side, l.price))
      }
      assert.deepStrictEqual(y.checkInvariants(), [])
    }
  })

  it("matches a naive reference model over a long random sequence of actions", () => {
    randomAgainstModel(1, 60_000, 12345)
  })

  it("keeps many books that share a store consistent under random actions, clears included", () => {
    randomAgainstModel(7, 80_000, 777)
  })
})

interface Ref {
  side: "B" | "A"
  price: number
  size: number
  stamp: number
}

/**
 * Random adds, cancels (full and partial), modifies (price and size) and clears over `nBooks` books sharing one
 * store, checked against a naive model: a Map of orders with priority stamps, queues sorted by stamp.
 */
const randomAgainstModel = (nBooks: number, steps: number, seed0: number) => {
  let seed = seed0
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const store = new BookStore()
  const books = Array.from({ length: nBooks }, () => new TestBook(store))
  const refs = books.map(() => new Map<number, Ref>())
  const lives = books.map(() => [] as Array<number>)
  let stamp = 0
  let nextId = 1
  for (let step = 0; step < steps; step++) {
    const k = rand(nBooks)
    const t = books[k]!
    const ref = refs[k]!
    const live = lives[k]!
    const r = rand(1000)
    if (r < 450 || live.length === 0) {
      const side = rand(2) === 0 ? "B" : "A"
      const price = side === "B" ? 100 - rand(200) / 4 : 100.25 + rand(200) / 4
      // Some ids repeat across books, some have high halves, one in ten has a low half above 2^31.
      const base = rand(10) === 0 ? nextId * 4294967296 + 7 : rand(10) === 0 ? 0x8000_0000 + nextId : nextId
      const id = nBooks > 1 && rand(5) === 0 ? base - (base % 2) : base
      nextId++
      if (ref.has(id)) continue
      const size = 1 + rand(20)
      assert.strictEqual(t.add(id, side, price, size), Outcome.OK)
      ref.set(id, { side, price, size, stamp: stamp++ })
      live.push(id)
    } else if (r < 800) {
      const at = rand(live.length)
      const id = live[at]!
      const o = ref.get(id)!
      const size = rand(3) === 0 ? o.size : 1 + rand(o.size)
      t.cancel(id, size)
      o.size -= size
      if (o.size === 0) {
        ref.delete(id)
        live[at] = live[live.length - 1]!
        live.pop()
      }
    } else if (r < 998) {
      const id = live[rand(live.length)]!
      const o = ref.get(id)!
      const move = rand(3)
      const price = move === 0 ? o.price + (o.side === "B" ? -0.25 : 0.25) * (1 + rand(4)) : o.price
      const size = move === 1 ? o.size + 1 + rand(5) : Math.max(1, o.size - rand(o.size))
      t.modify(id, o.side, price, size)
      if (price !== o.price || size > o.size) o.stamp = stamp++
      o.price = price
      o.size = size
    } else {
      t.book.clear()
      ref.clear()
      live.length = 0
    }
    if (step % 10_000 === 0) for (const b of books) b.check()
  }
  let total = 0
  books.forEach((t, k) => {
    t.check()
    const ref = refs[k]!
    for (const side of ["B", "A"] as const) {
      const byPrice = new Map<number, Array<[number, Ref]>>()
      for (const [id, o] of ref) if (o.side === side) byPrice.set(o.price, [...(byPrice.get(o.price) ?? []), [id, o]])
      const prices = [...byPrice.keys()].sort((a, b) => (side === "B" ? b - a : a - b))
      assert.deepStrictEqual(
        t.levels(side),
        prices.map((p) => [p, byPrice.get(p)!.reduce((s, [, o]) => s + o.size, 0), byPrice.get(p)!.length])
      )
      for (const p of prices) {
        const expected = byPrice.get(p)!.sort((a, b) => a[1].stamp - b[1].stamp).map(([id]) => id)
        assert.deepStrictEqual(t.queue(side, p), expected)
      }
    }
    assert.strictEqual(t.book.orderCount, ref.size)
    total += ref.size
  })
  assert.strictEqual(store.orders, total)
}
