/**
 * One L3 (market-by-order) book: resting orders in FIFO queues per price level, levels sorted per side, best bid
 * and ask always current. Add / Cancel / Modify / Clear with Databento's semantics (shared/spec/databento.md §7).
 * Storage is typed-array pools plus an open-addressing u64 order-id index, so applying a record allocates nothing.
 * Hot-path arguments are int32 halves (ids, prices) so calls pass V8 small integers and never box doubles.
 */
import { Side } from "../dbn/Constants.js"

/** What applying one action did. Anything but OK is an anomaly the caller counts; the book stays consistent. */
export const Outcome = {
  OK: 0,
  /** Add of an order id already resting: the old order is replaced. */
  DUPLICATE_ADD: 1,
  /** Cancel of an order id not in the book: ignored. */
  UNKNOWN_CANCEL: 2,
  /** Modify of an order id not in the book: applied as an Add. */
  UNKNOWN_MODIFY: 3,
  /** Cancel of more than the resting size (would go negative): the order is removed. */
  OVER_CANCEL: 4,
  /** Add/Modify whose side is not `A` or `B`: ignored. */
  BAD_SIDE: 5,
  /** Add/Modify with size 0 (Add) or an undefined price: ignored. */
  BAD_ORDER: 6,
  /** Modify whose side differs from the resting order's: applied, keeping the resting side. */
  SIDE_CHANGE: 7
} as const

export const OUTCOME_NAMES = [
  "Ok",
  "DuplicateAdd",
  "CancelUnknownOrder",
  "ModifyUnknownOrder",
  "OverCancel",
  "BadSide",
  "BadOrder",
  "SideChange"
] as const

/** One price level as seen from outside (tests, reports). */
export interface LevelView {
  /** 1e-9 units. */
  readonly price: number
  /** Total resting quantity. */
  readonly size: number
  /** Number of resting orders. */
  readonly count: number
}

/** One resting order as seen from outside (tests, reports). */
export interface OrderView {
  readonly orderId: bigint
  readonly side: "B" | "A"
  /** 1e-9 units. */
  readonly price: number
  readonly size: number
  /** 0 = first in its level's queue. */
  readonly queuePosition: number
}

const BID = 0
const ASK = 1
const TWO_32 = 4294967296
/** int32 halves of UNDEF_PRICE (i64::MAX). */
const UNDEF_HI = 0x7fffffff
const UNDEF_LO = -1
const NONE = -1
const EMPTY = -1

/** One side's levels: keys ascending with the best level last (bids key on price, asks on −price). */
class Ladder {
  key: Float64Array
  level: Int32Array
  n = 0
  constructor(capacity: number) {
    this.key = new Float64Array(capacity)
    this.level = new Int32Array(capacity)
  }

  /** Index of `key`, or −(insertion point) − 1. Searches from the best end first: most activity is near it. */
  find(key: number): number {
    const keys = this.key
    let hi = this.n - 1
    if (hi < 0) return -1
    const top = keys[hi]!
    if (top === key) return hi
    if (key > top) return -(hi + 1) - 1
    let lo = 0
    hi--
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const k = keys[mid]!
      if (k < key) lo = mid + 1
      else if (k > key) hi = mid - 1
      else return mid
    }
    return -lo - 1
  }

  insert(at: number, key: number, level: number): void {
    if (this.n === this.key.length) this.grow()
    const keys = this.key
    const levels = this.level
    const n = this.n
    if (n - at > 32) {
      keys.copyWithin(at + 1, at, n)
      levels.copyWithin(at + 1, at, n)
    } else {
      for (let j = n; j > at; j--) {
        keys[j] = keys[j - 1]!
        levels[j] = levels[j - 1]!
      }
    }
    keys[at] = key
    levels[at] = level
    this.n = n + 1
  }

  removeAt(at: number): void {
    const keys = this.key
    const levels = this.level
    const n = this.n - 1
    if (n - at > 32) {
      keys.copyWithin(at, at + 1, n + 1)
      levels.copyWithin(at, at + 1, n + 1)
    } else {
      for (let j = at; j < n; j++) {
        keys[j] = keys[j + 1]!
        levels[j] = levels[j + 1]!
      }
    }
    this.n = n
  }

  private grow(): void {
    const key = new Float64Array(this.key.length * 2)
    key.set(this.key)
    const level = new Int32Array(this.level.length * 2)
    level.set(this.level)
    this.key = key
    this.level = level
  }
}

/** Fibonacci hashing of a u64 given as int32 halves; `shift` = 32 − log2(table size). */
const hashOf = (hi: number, lo: number, shift: number): number =>
  Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> shift

const INITIAL_ORDERS = 16
const INITIAL_LEVELS = 8
/** A cleared book whose pools grew past this many orders gives the memory back. */
const SHRINK_ABOVE = 4096

export class Book {
  /** Set by `Books` while a snapshot of this instrument is being applied. */
  inSnapshot = false
  /** Records of this instrument that carried F_MAYBE_BAD_BOOK. */
  maybeBad = 0

  // Orders (slot-indexed pools; free slots chained through `oNext`).
  private oHi!: Int32Array
  private oLo!: Int32Array
  private oSize!: Uint32Array
  private oLevel!: Int32Array
  private oPrev!: Int32Array
  private oNext!: Int32Array
  private oTop = 0
  private oFree = NONE
  private live = 0

  // Levels (slot-indexed pools; free slots chained through `lHead`).
  private lPrice!: Float64Array
  private lSize!: Float64Array
  private lCount!: Int32Array
  private lHead!: Int32Array
  private lTail!: Int32Array
  private lSide!: Uint8Array
  private lTop = 0
  private lFree = NONE

  private bids!: Ladder
  private asks!: Ladder

  // order_id → order slot: linear probing, load ≤ 1/2, backward-shift deletion (no tombstones).
  private tHi!: Int32Array
  private tLo!: Int32Array
  private tVal!: Int32Array
  private tShift = 0
  private tMask = 0

  constructor(readonly instrumentId: number) {
    this.allocate(INITIAL_ORDERS, INITIAL_LEVELS)
  }

  // ---- queries ---------------------------------------------------------------------------------------------

  /** Resting orders. */
  get orderCount(): number {
    return this.live
  }

  get bidLevels(): number {
    return this.bids.n
  }

  get askLevels(): number {
    return this.asks.n
  }

  /** Best bid price, 1e-9 units; NaN when there are no bids. */
  get bestBidPrice(): number {
    const l = this.bids
    return l.n === 0 ? NaN : l.key[l.n - 1]!
  }

  /** Total quantity at the best bid; 0 when none. */
  get bestBidSize(): number {
    const l = this.bids
    return l.n === 0 ? 0 : this.lSize[l.level[l.n - 1]!]!
  }

  /** Orders at the best bid; 0 when none. */
  get bestBidCount(): number {
    const l = this.bids
    return l.n === 0 ? 0 : this.lCount[l.level[l.n - 1]!]!
  }

  /** Best ask price, 1e-9 units; NaN when there are no asks. */
  get bestAskPrice(): number {
    const l = this.asks
    return l.n === 0 ? NaN : -l.key[l.n - 1]!
  }

  get bestAskSize(): number {
    const l = this.asks
    return l.n === 0 ? 0 : this.lSize[l.level[l.n - 1]!]!
  }

  get bestAskCount(): number {
    const l = this.asks
    return l.n === 0 ? 0 : this.lCount[l.level[l.n - 1]!]!
  }

  /** Whether an order id is resting (u64 as its high and low 32-bit halves, signed or unsigned). */
  has(idHi: number, idLo: number): boolean {
    return this.findPos(idHi | 0, idLo | 0) !== EMPTY
  }

  // ---- actions ---------------------------------------------------------------------------------------------
  // Ids and prices arrive as int32 halves of their 64-bit values (MboBatch orderIdHi/Lo, priceHi/Lo, `| 0`):
  // the price is rebuilt as a double (1e-9 units, exact below 2^53) only where it is stored or compared.

  /**
   * Add: a new order at the back of its level. `side` is the DBN side byte (`B`/`A`); the price is given as the
   * int32 halves of the i64 (1e-9 units). An id already resting is replaced (DUPLICATE_ADD).
   */
  add(idHi: number, idLo: number, side: number, priceHi: number, priceLo: number, size: number): number {
    idHi |= 0
    idLo |= 0
    priceHi |= 0
    priceLo |= 0
    const s = side === Side.BID ? BID : side === Side.ASK ? ASK : NONE
    if (s === NONE) return Outcome.BAD_SIDE
    if (!(size > 0) || (priceHi === UNDEF_HI && priceLo === UNDEF_LO)) return Outcome.BAD_ORDER
    let pos = this.findPos(idHi, idLo)
    let outcome: number = Outcome.OK
    if (pos !== EMPTY) {
      const old = this.tVal[pos]!
      this.unlink(old)
      this.freeOrder(old)
      this.live--
      outcome = Outcome.DUPLICATE_ADD
    } else {
      pos = this.indexInsert(idHi, idLo)
    }
    const o = this.allocOrder()
    this.oHi[o] = idHi
    this.oLo[o] = idLo
    this.oSize[o] = size
    this.linkBack(o, this.levelFor(s, priceHi, priceLo))
    this.tVal[pos] = o
    this.live++
    return outcome
  }

  /** Cancel: removes `size` from the resting order (all of it at 0). The order's own price and side are used. */
  cancel(idHi: number, idLo: number, size: number): number {
    const pos = this.findPos(idHi | 0, idLo | 0)
    if (pos === EMPTY) return Outcome.UNKNOWN_CANCEL
    const o = this.tVal[pos]!
    const resting = this.oSize[o]!
    if (size < resting) {
      this.oSize[o] = resting - size
      this.lSize[this.oLevel[o]!] -= size
      return Outcome.OK
    }
    this.remove(o, pos)
    return size > resting ? Outcome.OVER_CANCEL : Outcome.OK
  }

  /**
   * Modify: price and `size` are the order's new values. Unknown id → Add (UNKNOWN_MODIFY). A price change, or
   * a larger size at the same price, moves the order to the back of its (new) level; a smaller or equal size at
   * the same price keeps its place. The side never changes. Size 0 removes the order.
   */
  modify(idHi: number, idLo: number, side: number, priceHi: number, priceLo: number, size: number): number {
    idHi |= 0
    idLo |= 0
    priceHi |= 0
    priceLo |= 0
    const pos = this.findPos(idHi, idLo)
    if (pos === EMPTY) {
      const r = this.add(idHi, idLo, side, priceHi, priceLo, size)
      return r === Outcome.OK ? Outcome.UNKNOWN_MODIFY : r
    }
    const o = this.tVal[pos]!
    if (priceHi === UNDEF_HI && priceLo === UNDEF_LO) return Outcome.BAD_ORDER
    if (size === 0) {
      this.remove(o, pos)
      return Outcome.OK
    }
    const lv = this.oLevel[o]!
    const s = this.lSide[lv]!
    const given = side === Side.BID ? BID : side === Side.ASK ? ASK : NONE
    const outcome = given === NONE || given === s ? Outcome.OK : Outcome.SIDE_CHANGE
    const old = this.oSize[o]!
    if (this.lPrice[lv] !== priceHi * TWO_32 + (priceLo >>> 0)) {
      this.unlink(o)
      this.oSize[o] = size
      this.linkBack(o, this.levelFor(s, priceHi, priceLo))
    } else if (size > old) {
      this.lSize[lv] += size - old
      this.oSize[o] = size
      if (this.lTail[lv] !== o) {
        this.detach(o, lv)
        this.append(o, lv)
      }
    } else {
      this.lSize[lv] -= old - size
      this.oSize[o] = size
    }
    return outcome
  }

  /** Clear: removes every order. */
  clear(): void {
    if (this.oHi.length > SHRINK_ABOVE) {
      this.allocate(INITIAL_ORDERS, INITIAL_LEVELS)
      return
    }
    this.oTop = 0
    this.oFree = NONE
    this.live = 0
    this.lTop = 0
    this.lFree = NONE
    this.bids.n = 0
    this.asks.n = 0
    this.tVal.fill(EMPTY)
  }

  // ---- inspection (tests, reports; allocates) -------------------------------------------------------------

  /** Levels of one side, best first. */
  levels(side: "B" | "A", limit = Infinity): Array<LevelView> {
    const l = side === "B" ? this.bids : this.asks
    const out: Array<LevelView> = []
    for (let j = l.n - 1; j >= 0 && out.length < limit; j--) {
      const lv = l.level[j]!
      out.push({ price: this.lPrice[lv]!, size: this.lSize[lv]!, count: this.lCount[lv]! })
    }
    return out
  }

  /** Order ids queued at one price of one side, first in priority first. */
  queue(side: "B" | "A", price: number): Array<bigint> {
    const l = side === "B" ? this.bids : this.asks
    const at = l.find(side === "B" ? price : -price)
    const out: Array<bigint> = []
    if (at < 0) return out
    for (let o = this.lHead[l.level[at]!]!; o !== NONE; o = this.oNext[o]!) out.push(idOf(this.oHi[o]!, this.oLo[o]!))
    return out
  }

  /** One resting order, or undefined. */
  order(orderId: bigint): OrderView | undefined {
    const pos = this.findPos(Number(BigInt.asIntN(32, orderId >> 32n)), Number(BigInt.asIntN(32, orderId)))
    if (pos === EMPTY) return undefined
    const o = this.tVal[pos]!
    const lv = this.oLevel[o]!
    let position = 0
    for (let p = this.oPrev[o]!; p !== NONE; p = this.oPrev[p]!) position++
    return {
      orderId,
      side: this.lSide[lv] === BID ? "B" : "A",
      price: this.lPrice[lv]!,
      size: this.oSize[o]!,
      queuePosition: position
    }
  }

  /**
   * Checks every structural invariant (sorted ladders, level totals and counts equal to their queues, queue links,
   * index ↔ orders, no empty level, positive sizes) and describes each violation; empty when consistent.
   */
  checkInvariants(): Array<string> {
    const problems: Array<string> = []
    let orders = 0
    for (const [l, s, name] of [[this.bids, BID, "bid"], [this.asks, ASK, "ask"]] as const) {
      for (let j = 0; j < l.n; j++) {
        const lv = l.level[j]!
        if (j > 0 && !(l.key[j - 1]! < l.key[j]!)) problems.push(`${name} ladder not strictly sorted at ${j}`)
        const price = this.lPrice[lv]!
        if ((s === BID ? price : -price) !== l.key[j]) problems.push(`${name} level ${price} key mismatch`)
        if (this.lSide[lv] !== s) problems.push(`${name} level ${price} has the wrong side`)
        let size = 0
        let count = 0
        let prev = NONE
        for (let o = this.lHead[lv]!; o !== NONE; o = this.oNext[o]!) {
          if (this.oPrev[o] !== prev) problems.push(`broken queue link at ${name} ${price}`)
          if (this.oLevel[o] !== lv) problems.push(`order in ${name} ${price} points at another level`)
          if (!(this.oSize[o]! > 0)) problems.push(`order with size ${this.oSize[o]} at ${name} ${price}`)
          if (this.tVal[this.findPos(this.oHi[o]!, this.oLo[o]!)] !== o) problems.push(`order at ${name} ${price} not indexed`)
          size += this.oSize[o]!
          count++
          prev = o
          if (count > this.live) break
        }
        if (this.lTail[lv] !== prev) problems.push(`${name} ${price} tail mismatch`)
        if (count === 0) problems.push(`empty ${name} level ${price}`)
        if (count !== this.lCount[lv]) problems.push(`${name} ${price} count ${this.lCount[lv]} != ${count}`)
        if (size !== this.lSize[lv]) problems.push(`${name} ${price} size ${this.lSize[lv]} != ${size}`)
        orders += count
      }
    }
    if (orders !== this.live) problems.push(`order count ${this.live} != ${orders} queued`)
    let indexed = 0
    for (let t = 0; t <= this.tMask; t++) if (this.tVal[t] !== EMPTY) indexed++
    if (indexed !== this.live) problems.push(`index holds ${indexed} ids for ${this.live} orders`)
    return problems
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private allocate(orders: number, levels: number): void {
    this.oHi = new Int32Array(orders)
    this.oLo = new Int32Array(orders)
    this.oSize = new Uint32Array(orders)
    this.oLevel = new Int32Array(orders)
    this.oPrev = new Int32Array(orders)
    this.oNext = new Int32Array(orders)
    this.oTop = 0
    this.oFree = NONE
    this.live = 0
    this.lPrice = new Float64Array(levels)
    this.lSize = new Float64Array(levels)
    this.lCount = new Int32Array(levels)
    this.lHead = new Int32Array(levels)
    this.lTail = new Int32Array(levels)
    this.lSide = new Uint8Array(levels)
    this.lTop = 0
    this.lFree = NONE
    this.bids = new Ladder(levels)
    this.asks = new Ladder(levels)
    const table = orders * 2
    this.tHi = new Int32Array(table)
    this.tLo = new Int32Array(table)
    this.tVal = new Int32Array(table).fill(EMPTY)
    this.tMask = table - 1
    this.tShift = 32 - Math.log2(table)
  }

  private remove(o: number, pos: number): void {
    this.unlink(o)
    this.freeOrder(o)
    this.indexDeleteAt(pos)
    this.live--
  }

  /** Slot of the level at price hi·2^32 + lo (1e-9 units) on side `s`, created (and placed in its ladder) when absent. */
  private levelFor(s: number, priceHi: number, priceLo: number): number {
    const price = priceHi * TWO_32 + (priceLo >>> 0)
    const ladder = s === BID ? this.bids : this.asks
    const key = s === BID ? price : -price
    const at = ladder.find(key)
    if (at >= 0) return ladder.level[at]!
    let lv = this.lFree
    if (lv !== NONE) this.lFree = this.lHead[lv]!
    else {
      if (this.lTop === this.lPrice.length) this.growLevels()
      lv = this.lTop++
    }
    this.lPrice[lv] = price
    this.lSize[lv] = 0
    this.lCount[lv] = 0
    this.lHead[lv] = NONE
    this.lTail[lv] = NONE
    this.lSide[lv] = s
    ladder.insert(-at - 1, key, lv)
    return lv
  }

  private linkBack(o: number, lv: number): void {
    this.oLevel[o] = lv
    this.lSize[lv] += this.oSize[o]!
    this.lCount[lv]++
    this.append(o, lv)
  }

  private append(o: number, lv: number): void {
    const tail = this.lTail[lv]!
    this.oPrev[o] = tail
    this.oNext[o] = NONE
    if (tail === NONE) this.lHead[lv] = o
    else this.oNext[tail] = o
    this.lTail[lv] = o
  }

  private detach(o: number, lv: number): void {
    const prev = this.oPrev[o]!
    const next = this.oNext[o]!
    if (prev === NONE) this.lHead[lv] = next
    else this.oNext[prev] = next
    if (next === NONE) this.lTail[lv] = prev
    else this.oPrev[next] = prev
  }

  /** Takes an order out of its level (and the level out of its ladder when it empties). */
  private unlink(o: number): void {
    const lv = this.oLevel[o]!
    this.detach(o, lv)
    this.lSize[lv] -= this.oSize[o]!
    if (--this.lCount[lv] === 0) {
      const s = this.lSide[lv]!
      const ladder = s === BID ? this.bids : this.asks
      const price = this.lPrice[lv]!
      ladder.removeAt(ladder.find(s === BID ? price : -price))
      this.lHead[lv] = this.lFree
      this.lFree = lv
    }
  }

  private allocOrder(): number {
    const f = this.oFree
    if (f !== NONE) {
      this.oFree = this.oNext[f]!
      return f
    }
    if (this.oTop === this.oHi.length) this.growOrders()
    return this.oTop++
  }

  private freeOrder(o: number): void {
    this.oNext[o] = this.oFree
    this.oFree = o
  }

  private growOrders(): void {
    const n = this.oHi.length * 2
    this.oHi = grownI32(this.oHi, n)
    this.oLo = grownI32(this.oLo, n)
    this.oSize = grownU32(this.oSize, n)
    this.oLevel = grownI32(this.oLevel, n)
    this.oPrev = grownI32(this.oPrev, n)
    this.oNext = grownI32(this.oNext, n)
  }

  private growLevels(): void {
    const n = this.lPrice.length * 2
    const price = new Float64Array(n)
    price.set(this.lPrice)
    this.lPrice = price
    const size = new Float64Array(n)
    size.set(this.lSize)
    this.lSize = size
    this.lCount = grownI32(this.lCount, n)
    this.lHead = grownI32(this.lHead, n)
    this.lTail = grownI32(this.lTail, n)
    const side = new Uint8Array(n)
    side.set(this.lSide)
    this.lSide = side
  }

  // ---- order-id index --------------------------------------------------------------------------------------

  /** Table position of an order id, or EMPTY. */
  private findPos(hi: number, lo: number): number {
    const tv = this.tVal
    const th = this.tHi
    const tl = this.tLo
    const mask = this.tMask
    let t = hashOf(hi, lo, this.tShift)
    for (;;) {
      if (tv[t] === EMPTY) return EMPTY
      if (tl[t] === lo && th[t] === hi) return t
      t = (t + 1) & mask
    }
  }

  /** Reserves the entry of an id known to be absent (growing first) and returns its position. */
  private indexInsert(hi: number, lo: number): number {
    if ((this.live + 1) * 2 > this.tMask + 1) this.growIndex()
    const tv = this.tVal
    const mask = this.tMask
    let t = hashOf(hi, lo, this.tShift)
    while (tv[t] !== EMPTY) t = (t + 1) & mask
    this.tHi[t] = hi
    this.tLo[t] = lo
    return t
  }

  private indexDeleteAt(t: number): void {
    const tv = this.tVal
    const th = this.tHi
    const tl = this.tLo
    const mask = this.tMask
    const shift = this.tShift
    // Backward-shift deletion: pull later entries of the probe run into the hole when their home allows it.
    let hole = t
    let j = t
    for (;;) {
      j = (j + 1) & mask
      if (tv[j] === EMPTY) break
      const home = hashOf(th[j]!, tl[j]!, shift)
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j
      if (movable) {
        th[hole] = th[j]!
        tl[hole] = tl[j]!
        tv[hole] = tv[j]!
        hole = j
      }
    }
    tv[hole] = EMPTY
  }

  private growIndex(): void {
    const oldHi = this.tHi
    const oldLo = this.tLo
    const oldVal = this.tVal
    const size = oldVal.length * 2
    this.tHi = new Int32Array(size)
    this.tLo = new Int32Array(size)
    this.tVal = new Int32Array(size).fill(EMPTY)
    this.tMask = size - 1
    this.tShift = 32 - Math.log2(size)
    const mask = this.tMask
    for (let t = 0; t < oldVal.length; t++) {
      const v = oldVal[t]!
      if (v === EMPTY) continue
      let u = hashOf(oldHi[t]!, oldLo[t]!, this.tShift)
      while (this.tVal[u] !== EMPTY) u = (u + 1) & mask
      this.tHi[u] = oldHi[t]!
      this.tLo[u] = oldLo[t]!
      this.tVal[u] = v
    }
  }
}

const grownU32 = (a: Uint32Array, n: number): Uint32Array => {
  const b = new Uint32Array(n)
  b.set(a)
  return b
}

const grownI32 = (a: Int32Array, n: number): Int32Array => {
  const b = new Int32Array(n)
  b.set(a)
  return b
}

/** An order id from its 32-bit halves (signed or unsigned). */
export const idOf = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)

/** The int32 halves of a u64 order id or an i64 price (1e-9 units), as the hot-path methods take them. */
export const halves = (v: bigint): readonly [number, number] =>
  [Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v))]
