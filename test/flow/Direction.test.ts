import { assert, describe, it } from "@effect/vitest"
import { Book, halves } from "../../src/book/Book.js"
import { classify, Classifier, Dir, directionOf, newTickState, Rule, ruleOf } from "../../src/flow/Direction.js"

const B = 0x42
const A = 0x41
const N = 0x4e
const px = (points: number): number => Math.round(points * 1e9)
/** Rests an order of `size` at `points` on `side`. */
const rest = (book: Book, id: number, side: number, points: number, size: number) => {
  const [ph, pl] = halves(BigInt(px(points)))
  book.add(0, id, side, ph, pl, size)
}

/** A book quoting 10.00 bid / 10.50 ask. */
const quoted = (): Book => {
  const book = new Book(1)
  rest(book, 1, B, 10, 5)
  rest(book, 2, A, 10.5, 5)
  return book
}

const decide = (side: number, price: number, book: Book, state = newTickState()) => {
  const code = classify(state, side, px(price), book.bestBidPrice, book.bestAskPrice)
  return [directionOf(code), ruleOf(code)]
}

describe("Direction", () => {
  it("takes the exchange aggressor side first: B is BUY, A is SELL", () => {
    const book = quoted()
    assert.deepStrictEqual(decide(B, 10, book), [Dir.BUY, Rule.AGGRESSOR])
    assert.deepStrictEqual(decide(A, 10.5, book), [Dir.SELL, Rule.AGGRESSOR])
  })

  it("classifies a side-N trade at the ask as BUY by the quote rule", () => {
    assert.deepStrictEqual(decide(N, 10.5, quoted()), [Dir.BUY, Rule.QUOTE])
  })

  it("classifies a side-N trade through the ask as BUY by the quote rule", () => {
    assert.deepStrictEqual(decide(N, 11, quoted()), [Dir.BUY, Rule.QUOTE])
  })

  it("classifies a side-N trade at the bid as SELL by the quote rule", () => {
    assert.deepStrictEqual(decide(N, 10, quoted()), [Dir.SELL, Rule.QUOTE])
  })

  it("classifies a side-N trade through the bid as SELL by the quote rule", () => {
    assert.deepStrictEqual(decide(N, 9.75, quoted()), [Dir.SELL, Rule.QUOTE])
  })

  it("uses the book at that moment, not the book later", () => {
    const book = quoted()
    const state = newTickState()
    assert.deepStrictEqual(decide(N, 10.5, book, state), [Dir.BUY, Rule.QUOTE])
    book.cancel(0, 2, 5)
    rest(book, 3, A, 10.25, 1)
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.BUY, Rule.QUOTE])
  })

  it("classifies a trade strictly inside the spread above the previous trade as BUY by the tick rule", () => {
    const book = quoted()
    const state = newTickState()
    decide(N, 10, book, state)
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.BUY, Rule.TICK])
  })

  it("classifies a trade strictly inside the spread below the previous trade as SELL by the tick rule", () => {
    const book = quoted()
    const state = newTickState()
    decide(B, 10.5, book, state)
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.SELL, Rule.TICK])
  })

  it("carries the previous direction on a zero tick", () => {
    const book = quoted()
    const state = newTickState()
    decide(A, 10.25, book, state)
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.SELL, Rule.TICK])
    decide(B, 10.25, book, state)
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.BUY, Rule.TICK])
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.BUY, Rule.TICK])
  })

  it("leaves a trade inside the spread with no previous trade UNKNOWN by no rule", () => {
    assert.deepStrictEqual(decide(N, 10.25, quoted()), [Dir.UNKNOWN, Rule.NONE])
  })

  it("leaves a zero tick UNKNOWN when no earlier trade had a direction", () => {
    const book = quoted()
    const state = newTickState()
    decide(N, 10.25, book, state)
    assert.deepStrictEqual(decide(N, 10.25, book, state), [Dir.UNKNOWN, Rule.NONE])
  })

  it("falls back to the tick rule when the book is empty, one-sided or crossed", () => {
    const state = newTickState()
    const empty = new Book(1)
    assert.deepStrictEqual(decide(N, 10, empty, state), [Dir.UNKNOWN, Rule.NONE])
    assert.deepStrictEqual(decide(N, 10.25, empty, state), [Dir.BUY, Rule.TICK])
    const bidOnly = new Book(1)
    rest(bidOnly, 1, B, 10, 1)
    assert.deepStrictEqual(decide(N, 10, bidOnly, state), [Dir.SELL, Rule.QUOTE])
    assert.deepStrictEqual(decide(N, 10.5, bidOnly, state), [Dir.BUY, Rule.TICK])
    const crossed = new Book(1)
    rest(crossed, 1, B, 10.5, 1)
    rest(crossed, 2, A, 10, 1)
    assert.deepStrictEqual(decide(N, 10.25, crossed, state), [Dir.SELL, Rule.TICK])
  })

  it("gives no direction to an undefined price and keeps the previous price for the tick rule", () => {
    const book = new Book(1)
    const state = newTickState()
    decide(N, 10, book, state)
    const code = classify(state, N, NaN, NaN, NaN)
    assert.deepStrictEqual([directionOf(code), ruleOf(code)], [Dir.UNKNOWN, Rule.NONE])
    assert.strictEqual(state.lastPrice, px(10))
  })

  it("keeps tick state per instrument and counts trades per rule", () => {
    const c = new Classifier()
    c.classify(1, B, px(10), NaN, NaN)
    c.classify(2, A, px(20), NaN, NaN)
    assert.strictEqual(directionOf(c.classify(1, N, px(10), NaN, NaN)), Dir.BUY)
    assert.strictEqual(directionOf(c.classify(2, N, px(20), NaN, NaN)), Dir.SELL)
    assert.strictEqual(directionOf(c.classify(3, N, px(20), NaN, NaN)), Dir.UNKNOWN)
    assert.deepStrictEqual(c.byRule, [1, 2, 0, 2])
  })
})
