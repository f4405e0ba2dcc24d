/**
 * The simulator's own resting-order book for one option: price levels in integer ticks with FIFO queues,
 * mutated exactly as the MBO records it emits say (shared/spec/databento.md §7), so every record is consistent.
 */

export const BID = 0
export const ASK = 1
export type BookSide = typeof BID | typeof ASK

export interface Order {
  /** Venue order id (below 2^53). */
  id: number
  side: BookSide
  /** Price in ticks. */
  ticks: number
  /** Remaining quantity, contracts. */
  size: number
  /** Venue sequence of the order's last update (snapshots carry it). */
  seq: number
}

export interface Level {
  ticks: number
  readonly orders: Array<Order>
}

// Emptied levels and removed orders are recycled: makers create and drop both on most events, and objects that
// live for seconds would otherwise be promoted and collected by the old-generation GC.
const freeLevels: Array<Level> = []
const freeOrders: Array<Order> = []

/** An order object, recycled when one is free. An order passed to `SimBook.remove` may be handed out again here. */
export const makeOrder = (id: number, side: BookSide, ticks: number, size: number, seq: number): Order => {
  const o = freeOrders.pop()
  if (o === undefined) return { id, side, ticks, size, seq }
  o.id = id
  o.side = side
  o.ticks = ticks
  o.size = size
  o.seq = seq
  return o
}

export class SimBook {
  /** Bids best (highest) first, asks best (lowest) first. */
  readonly sides: [Array<Level>, Array<Level>] = [[], []]
  private count = 0

  get orderCount(): number {
    return this.count
  }

  /** Best bid in ticks, or -1 when there is none. */
  bestBid(): number {
    const l = this.sides[BID][0]
    return l === undefined ? -1 : l.ticks
  }

  /** Best ask in ticks, or +Infinity when there is none. */
  bestAsk(): number {
    const l = this.sides[ASK][0]
    return l === undefined ? Infinity : l.ticks
  }

  /** Whether a resting order at `ticks` on `side` would not lock or cross the other side. */
  canRest(side: BookSide, ticks: number): boolean {
    return side === BID ? ticks < this.bestAsk() : ticks > this.bestBid()
  }

  /** Appends an order at the back of its level. */
  add(order: Order): void {
    this.levelFor(order.side, order.ticks, true)!.orders.push(order)
    this.count++
  }

  /** Removes `qty` from an order; removes the order (and its level if empty) at 0. */
  reduce(order: Order, qty: number): void {
    order.size -= qty
    if (order.size <= 0) this.remove(order)
  }

  /** Removes an order; the object is recycled, so the caller must not keep it. */
  remove(order: Order): void {
    this.unlink(order)
    if (freeOrders.length < 65536) freeOrders.push(order)
  }

  private unlink(order: Order): void {
    const levels = this.sides[order.side]
    const i = this.levelIndex(order.side, order.ticks)
    const level = levels[i]!
    removeAt(level.orders, level.orders.indexOf(order))
    if (level.orders.length === 0) {
      removeAt(levels, i)
      if (freeLevels.length < 4096) freeLevels.push(level)
    }
    this.count--
  }

  /** Applies a Modify: a price change or a size increase loses priority, a decrease keeps it. */
  modify(order: Order, ticks: number, size: number): void {
    if (ticks !== order.ticks || size > order.size) {
      this.unlink(order)
      order.ticks = ticks
      order.size = size
      this.add(order)
    } else {
      order.size = size
    }
  }

  /** Empties the book (a Clear). */
  clear(): void {
    for (const side of this.sides) {
      for (const level of side) {
        level.orders.length = 0
        if (freeLevels.length < 4096) freeLevels.push(level)
      }
      side.length = 0
    }
    this.count = 0
  }

  /** Every order in priority order: bids best first, then asks best first. */
  orders(): Array<Order> {
    const out: Array<Order> = []
    for (const side of this.sides) for (const level of side) for (const o of level.orders) out.push(o)
    return out
  }

  /** Total quantity resting at a level (0 if none). */
  levelSize(side: BookSide, ticks: number): number {
    const levels = this.sides[side]
    for (const l of levels) {
      if (l.ticks !== ticks) continue
      let n = 0
      for (const o of l.orders) n += o.size
      return n
    }
    return 0
  }

  private levelIndex(side: BookSide, ticks: number): number {
    const levels = this.sides[side]
    for (let i = 0; i < levels.length; i++) if (levels[i]!.ticks === ticks) return i
    return -1
  }

  private levelFor(side: BookSide, ticks: number, create: boolean): Level | undefined {
    const levels = this.sides[side]
    let i = 0
    // bids sort descending, asks ascending
    if (side === BID) while (i < levels.length && levels[i]!.ticks > ticks) i++
    else while (i < levels.length && levels[i]!.ticks < ticks) i++
    const at = levels[i]
    if (at !== undefined && at.ticks === ticks) return at
    if (!create) return undefined
    const level: Level = freeLevels.pop() ?? { ticks, orders: [] }
    level.ticks = ticks
    levels.push(level)
    for (let j = levels.length - 1; j > i; j--) levels[j] = levels[j - 1]!
    levels[i] = level
    return level
  }
}

// Array.prototype.splice allocates its result array; on arrays this short a shifting loop is several times faster.
const removeAt = <A>(a: Array<A>, i: number): void => {
  const n = a.length - 1
  for (let j = i; j < n; j++) a[j] = a[j + 1]!
  a.pop()
}
