/**
 * One L3 (market-by-order) book: resting orders in FIFO queues per price level, levels sorted per side, best bid
 * and ask always current. Add / Cancel / Modify / Clear with Databento's semantics (shared/spec/databento.md §7).
 * Orders, levels and the u64 order-id index live in typed-array pools of a `BookStore` shared by all the books of a
 * stream (dense and cache-friendly with thousands of books); applying a record allocates nothing.
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
  /** Add of size 0, or an Add/Modify with an undefined price or a size ≥ 2^31: ignored. */
  BAD_ORDER: 6,
  /** Modify whose side differs from the resting order's: applied, keeping the resting side. */
  SIDE_CHANGE: 7
} as const

/** Names of the outcomes, indexed by code (also the flagged-record reasons of book anomalies). */
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
/** Sizes are kept in int32; anything larger (e.g. UNDEF_ORDER_SIZE) is not a real order. */
const MAX_SIZE = 0x7fffffff

const INITIAL_ORDERS = 1024
const INITIAL_LEVELS = 512
const INITIAL_LADDER = 8
/** A cleared book whose ladders grew past this many levels gives the memory back. */
const SHRINK_LADDER_ABOVE = 1024

/** Hash of (book, u64 id as int32 halves); `shift` = 32 − log2(table size). */
const hashOf = (book: number, hi: number, lo: number, shift: number): number =>
  Math.imul(lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(book, 0xc2b2ae35), 0x9e3779b1) >>> shift

/**
 * Storage shared by the books of one stream: an order pool, a level pool (slots reused through free lists) and one
 * open-addressing index (book, order_id) → order slot with linear probing, load ≤ 1/2 and backward-shift deletion.
 * Everything is keyed by exact int32 halves, so any u64 order id works (no 2^53 limit). Pools grow by doubling up
 * to the high-water mark of live orders and levels.
 */
export class BookStore {
  // Orders.
  oHi = new Int32Array(INITIAL_ORDERS)
  oLo = new Int32Array(INITIAL_ORDERS)
  oSize = new Int32Array(INITIAL_ORDERS)
  oLevel = new Int32Array(INITIAL_ORDERS)
  oPrev = new Int32Array(INITIAL_ORDERS)
  oNext = new Int32Array(INITIAL_ORDERS)
  private oTop = 0
  private oFree = NONE
  /** Live orders over all books. */
  orders = 0

  // Levels.
  lPrice = new Float64Array(INITIAL_LEVELS)
  lSize = new Float64Array(INITIAL_LEVELS)
  lCount = new Int32Array(INITIAL_LEVELS)
  lHead = new Int32Array(INITIAL_LEVELS)
  lTail = new Int32Array(INITIAL_LEVELS)
  lSide = new Uint8Array(INITIAL_LEVELS)
  private lTop = 0
  private lFree = NONE

  // Index.
  tBook = new Int32Array(INITIAL_ORDERS * 2)
  tHi = new Int32Array(INITIAL_ORDERS * 2)
  tLo = new Int32Array(INITIAL_ORDERS * 2)
  tVal = new Int32Array(INITIAL_ORDERS * 2).fill(EMPTY)
  tMask = INITIAL_ORDERS * 2 - 1
  tShift = 32 - Math.log2(INITIAL_ORDERS * 2)

  private books = 0

  /** A number for a new book (part of every index key). */
  register(): number {
    return this.books++
  }

  /** Order slots in use and allocated (for memory reports). */
  get orderCapacity(): number {
    return this.oHi.length
  }

  /** Table position of (book, id), or EMPTY. */
  findPos(book: number, hi: number, lo: number): number {
    const tv = this.tVal
    const th = this.tHi
    const tl = this.tLo
    const tb = this.tBook
    const mask = this.tMask
    let t = hashOf(book, hi, lo, this.tShift)
    for (;;) {
      if (tv[t] === EMPTY) return EMPTY
      if (tl[t] === lo && th[t] === hi && tb[t] === book) return t
      t = (t + 1) & mask
    }
  }

  /** Reserves the entry of an absent (book, id), growing first, and returns its position. */
  indexInsert(book: number, hi: number, lo: number): number {
    if ((this.orders + 1) * 2 > this.tMask + 1) this.growIndex()
    const tv = this.tVal
    const mask = this.tMask
    let t = hashOf(book, hi, lo, this.tShift)
    while (tv[t] !== EMPTY) t = (t + 1) & mask
    this.tBook[t] = book
    this.tHi[t] = hi
    this.tLo[t] = lo
    return t
  }

  indexDeleteAt(t: number): void {
    const tv = this.tVal
    const th = this.tHi
    const tl = this.tLo
    const tb = this.tBook
    const mask = this.tMask
    const shift = this.tShift
    // Backward-shift deletion: pull later entries of the probe run into the hole when their home allows it.
    let hole = t
    let j = t
    for (;;) {
      j = (j + 1) & mask
      if (tv[j] === EMPTY) break
      const home = hashOf(tb[j]!, th[j]!, tl[j]!, shift)
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j
      if (movable) {
        tb[hole] = tb[j]!
        th[hole] = th[j]!
        tl[hole] = tl[j]!
        tv[hole] = tv[j]!
        hole = j
      }
    }
    tv[hole] = EMPTY
  }

  allocOrder(): number {
    const f = this.oFree
    if (f !== NONE) {
      this.oFree = this.oNext[f]!
      return f
    }
    if (this.oTop === this.oHi.length) this.growOrders()
    return this.oTop++
  }

  freeOrder(o: number): void {
    this.oNext[o] = this.oFree
    this.oFree = o
  }

  allocLevel(): number {
    const f = this.lFree
    if (f !== NONE) {
      this.lFree = this.lHead[f]!
      return f
    }
    if (this.lTop === this.lPrice.length) this.growLevels()
    return this.lTop++
  }

  freeLevel(lv: number): void {
    this.lHead[lv] = this.lFree
    this.lFree = lv
  }

  private growOrders(): void {
    const n = this.oHi.length * 2
    this.oHi = grownI32(this.oHi, n)
    this.oLo = grownI32(this.oLo, n)
    this.oSize = grownI32(this.oSize, n)
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

  private growIndex(): void {
    const oldBook = this.tBook
    const oldHi = this.tHi
    const oldLo = this.tLo
    const oldVal = this.tVal
    const size = oldVal.length * 2
    const tb = (this.tBook = new Int32Array(size))
    const th = (this.tHi = new Int32Array(size))
    const tl = (this.tLo = new Int32Array(size))
    const tv = (this.tVal = new Int32Array(size).fill(EMPTY))
    this.tMask = size - 1
    this.tShift = 32 - Math.log2(size)
    const mask = this.tMask
    for (let t = 0; t < oldVal.length; t++) {
      const v = oldVal[t]!
      if (v === EMPTY) continue
      let u = hashOf(oldBook[t]!, oldHi[t]!, oldLo[t]!, this.tShift)
      while (tv[u] !== EMPTY) u = (u + 1) & mask
      tb[u] = oldBook[t]!
      th[u] = oldHi[t]!
      tl[u] = oldLo[t]!
      tv[u] = v
    }
  }
}

/** One side's levels: keys ascending with the best level last (bids key on price, asks on −price). */
class Ladder {
  key: Float64Array
  level: Int32Array
  n = 0
  constructor(capacity: number) {
    this.key = new Float64Array(capacity)
    this.level = new Int32Array(capacity)
  }

  /** Index of `key`, or −(insertion point) − 1. Looks at the best level first: most activity is near it. */
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

  /**
   * Moves the entry at `from` to insertion point `to` (computed with the entry still in place) under a new key
   * that keeps the ladder sorted there.
   */
  move(from: number, to: number, key: number): void {
    const keys = this.key
    const levels = this.level
    const level = levels[from]!
    if (to > from) {
      to--
      for (let j = from; j < to; j++) {
        keys[j] = keys[j + 1]!
        levels[j] = levels[j + 1]!
      }
    } else {
      for (let j = from; j > to; j--) {
        keys[j] = keys[j - 1]!
        levels[j] = levels[j - 1]!
      }
    }
    keys[to] = key
    levels[to] = level
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

export class Book {
  /** Set by `Books` while a snapshot of this instrument is being applied. */
  inSnapshot = false
  /** Records of this instrument that carried F_MAYBE_BAD_BOOK. */
  maybeBad = 0

  private readonly store: BookStore
  /** This book's number in the store's index keys. */
  private readonly no: number
  private live = 0
  private bids = new Ladder(INITIAL_LADDER)
  private asks = new Ladder(INITIAL_LADDER)

  /** A book of `instrumentId`, in the given store (shared with other books) or in a store of its own. */
  constructor(readonly instrumentId: number, store?: BookStore) {
    this.store = store ?? new BookStore()
    this.no = this.store.register()
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
    return l.n === 0 ? 0 : this.store.lSize[l.level[l.n - 1]!]!
  }

  /** Orders at the best bid; 0 when none. */
  get bestBidCount(): number {
    const l = this.bids
    return l.n === 0 ? 0 : this.store.lCount[l.level[l.n - 1]!]!
  }

  /** Best ask price, 1e-9 units; NaN when there are no asks. */
  get bestAskPrice(): number {
    const l = this.asks
    return l.n === 0 ? NaN : -l.key[l.n - 1]!
  }

  get bestAskSize(): number {
    const l = this.asks
    return l.n === 0 ? 0 : this.store.lSize[l.level[l.n - 1]!]!
  }

  get bestAskCount(): number {
    const l = this.asks
    return l.n === 0 ? 0 : this.store.lCount[l.level[l.n - 1]!]!
  }

  /** Whether an order id is resting (u64 as its high and low 32-bit halves, signed or unsigned). */
  has(idHi: number, idLo: number): boolean {
    return this.store.findPos(this.no, idHi | 0, idLo | 0) !== EMPTY
  }

  // ---- actions ---------------------------------------------------------------------------------------------
  // Ids and prices arrive as int32 halves of their 64-bit values (MboBatch orderIdHi/Lo, priceHi/Lo, `| 0`), so
  // calls pass V8 small integers and never box doubles; the price is rebuilt as a double (1e-9 units, exact below
  // 2^53) only where it is stored or compared.

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
    if (!(size > 0 && size <= MAX_SIZE) || (priceHi === UNDEF_HI && priceLo === UNDEF_LO)) return Outcome.BAD_ORDER
    const st = this.store
    let pos = st.findPos(this.no, idHi, idLo)
    let outcome: number = Outcome.OK
    if (pos !== EMPTY) {
      const old = st.tVal[pos]!
      this.unlink(old)
      st.freeOrder(old)
      st.orders--
      this.live--
      outcome = Outcome.DUPLICATE_ADD
    } else {
      pos = st.indexInsert(this.no, idHi, idLo)
    }
    const o = st.allocOrder()
    const lv = this.levelFor(s, priceHi, priceLo)
    st.oHi[o] = idHi
    st.oLo[o] = idLo
    st.oSize[o] = size
    this.linkBack(o, lv)
    st.tVal[pos] = o
    st.orders++
    this.live++
    return outcome
  }

  /** Cancel: removes `size` from the resting order (all of it at 0). The order's own price and side are used. */
  cancel(idHi: number, idLo: number, size: number): number {
    const st = this.store
    const pos = st.findPos(this.no, idHi | 0, idLo | 0)
    if (pos === EMPTY) return Outcome.UNKNOWN_CANCEL
    const o = st.tVal[pos]!
    const resting = st.oSize[o]!
    if (size < resting) {
      st.oSize[o] = resting - size
      st.lSize[st.oLevel[o]!] -= size
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
    const st = this.store
    const pos = st.findPos(this.no, idHi, idLo)
    if (pos === EMPTY) {
      const r = this.add(idHi, idLo, side, priceHi, priceLo, size)
      return r === Outcome.OK ? Outcome.UNKNOWN_MODIFY : r
    }
    const o = st.tVal[pos]!
    if ((priceHi === UNDEF_HI && priceLo === UNDEF_LO) || size > MAX_SIZE) return Outcome.BAD_ORDER
    if (size === 0) {
      this.remove(o, pos)
      return Outcome.OK
    }
    const lv = st.oLevel[o]!
    const s = st.lSide[lv]!
    const given = side === Side.BID ? BID : side === Side.ASK ? ASK : NONE
    const outcome = given === NONE || given === s ? Outcome.OK : Outcome.SIDE_CHANGE
    const old = st.oSize[o]!
    const price = priceHi * TWO_32 + (priceLo >>> 0)
    const was = st.lPrice[lv]!
    if (was !== price) {
      if (st.lCount[lv] === 1) {
        // A lone order re-quoted to a price with no level yet (the common market-maker move): the level itself
        // moves, one ladder shift instead of a removal and an insertion.
        const ladder = s === BID ? this.bids : this.asks
        const key = s === BID ? price : -price
        const to = ladder.find(key)
        if (to < 0) {
          ladder.move(ladder.find(s === BID ? was : -was), -to - 1, key)
          st.lPrice[lv] = price
          st.lSize[lv] = size
          st.oSize[o] = size
          return outcome
        }
      }
      this.unlink(o)
      st.oSize[o] = size
      this.linkBack(o, this.levelFor(s, priceHi, priceLo))
    } else if (size > old) {
      st.lSize[lv] += size - old
      st.oSize[o] = size
      if (st.lTail[lv] !== o) {
        this.detach(o, lv)
        this.append(o, lv)
      }
    } else {
      st.lSize[lv] -= old - size
      st.oSize[o] = size
    }
    return outcome
  }

  /** Clear: removes every order (their slots go back to the store). */
  clear(): void {
    const st = this.store
    for (const ladder of [this.bids, this.asks]) {
      for (let j = 0; j < ladder.n; j++) {
        const lv = ladder.level[j]!
        let o = st.lHead[lv]!
        while (o !== NONE) {
          const next = st.oNext[o]!
          st.indexDeleteAt(st.findPos(this.no, st.oHi[o]!, st.oLo[o]!))
          st.freeOrder(o)
          o = next
        }
        st.freeLevel(lv)
      }
      ladder.n = 0
    }
    st.orders -= this.live
    this.live = 0
    if (this.bids.key.length > SHRINK_LADDER_ABOVE) this.bids = new Ladder(INITIAL_LADDER)
    if (this.asks.key.length > SHRINK_LADDER_ABOVE) this.asks = new Ladder(INITIAL_LADDER)
  }

  // ---- inspection (tests, reports; allocates) -------------------------------------------------------------

  /** Levels of one side, best first. */
  levels(side: "B" | "A", limit = Infinity): Array<LevelView> {
    const st = this.store
    const l = side === "B" ? this.bids : this.asks
    const out: Array<LevelView> = []
    for (let j = l.n - 1; j >= 0 && out.length < limit; j--) {
      const lv = l.level[j]!
      out.push({ price: st.lPrice[lv]!, size: st.lSize[lv]!, count: st.lCount[lv]! })
    }
    return out
  }

  /** Order ids queued at one price (1e-9 units) of one side, first in priority first. */
  queue(side: "B" | "A", price: number): Array<bigint> {
    const st = this.store
    const l = side === "B" ? this.bids : this.asks
    const at = l.find(side === "B" ? price : -price)
    const out: Array<bigint> = []
    if (at < 0) return out
    for (let o = st.lHead[l.level[at]!]!; o !== NONE; o = st.oNext[o]!) out.push(idOf(st.oHi[o]!, st.oLo[o]!))
    return out
  }

  /** One resting order, or undefined. */
  order(orderId: bigint): OrderView | undefined {
    const st = this.store
    const [hi, lo] = halves(orderId)
    const pos = st.findPos(this.no, hi, lo)
    if (pos === EMPTY) return undefined
    const o = st.tVal[pos]!
    const lv = st.oLevel[o]!
    let position = 0
    for (let p = st.oPrev[o]!; p !== NONE; p = st.oPrev[p]!) position++
    return {
      orderId,
      side: st.lSide[lv] === BID ? "B" : "A",
      price: st.lPrice[lv]!,
      size: st.oSize[o]!,
      queuePosition: position
    }
  }

  /**
   * Checks every structural invariant (sorted ladders, level totals and counts equal to their queues, queue links,
   * index ↔ orders, no empty level, positive sizes) and describes each violation; empty when consistent.
   */
  checkInvariants(): Array<string> {
    const st = this.store
    const problems: Array<string> = []
    let orders = 0
    for (const [l, s, name] of [[this.bids, BID, "bid"], [this.asks, ASK, "ask"]] as const) {
      for (let j = 0; j < l.n; j++) {
        const lv = l.level[j]!
        if (j > 0 && !(l.key[j - 1]! < l.key[j]!)) problems.push(`${name} ladder not strictly sorted at ${j}`)
        const price = st.lPrice[lv]!
        if ((s === BID ? price : -price) !== l.key[j]) problems.push(`${name} level ${price} key mismatch`)
        if (st.lSide[lv] !== s) problems.push(`${name} level ${price} has the wrong side`)
        let size = 0
        let count = 0
        let prev = NONE
        for (let o = st.lHead[lv]!; o !== NONE; o = st.oNext[o]!) {
          if (st.oPrev[o] !== prev) problems.push(`broken queue link at ${name} ${price}`)
          if (st.oLevel[o] !== lv) problems.push(`order in ${name} ${price} points at another level`)
          if (!(st.oSize[o]! > 0)) problems.push(`order with size ${st.oSize[o]} at ${name} ${price}`)
          if (st.tVal[st.findPos(this.no, st.oHi[o]!, st.oLo[o]!)] !== o) {
            problems.push(`order at ${name} ${price} not indexed`)
          }
          size += st.oSize[o]!
          count++
          prev = o
          if (count > this.live) break
        }
        if (st.lTail[lv] !== prev) problems.push(`${name} ${price} tail mismatch`)
        if (count === 0) problems.push(`empty ${name} level ${price}`)
        if (count !== st.lCount[lv]) problems.push(`${name} ${price} count ${st.lCount[lv]} != ${count}`)
        if (size !== st.lSize[lv]) problems.push(`${name} ${price} size ${st.lSize[lv]} != ${size}`)
        orders += count
      }
    }
    if (orders !== this.live) problems.push(`order count ${this.live} != ${orders} queued`)
    let indexed = 0
    for (let t = 0; t <= st.tMask; t++) if (st.tVal[t] !== EMPTY && st.tBook[t] === this.no) indexed++
    if (indexed !== this.live) problems.push(`index holds ${indexed} ids for ${this.live} orders`)
    return problems
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private remove(o: number, pos: number): void {
    const st = this.store
    this.unlink(o)
    st.freeOrder(o)
    st.indexDeleteAt(pos)
    st.orders--
    this.live--
  }

  /** Slot of the level at price hi·2^32 + lo (1e-9 units) on side `s`, created (and placed in its ladder) when absent. */
  private levelFor(s: number, priceHi: number, priceLo: number): number {
    const price = priceHi * TWO_32 + (priceLo >>> 0)
    const ladder = s === BID ? this.bids : this.asks
    const key = s === BID ? price : -price
    const at = ladder.find(key)
    if (at >= 0) return ladder.level[at]!
    const st = this.store
    const lv = st.allocLevel()
    st.lPrice[lv] = price
    st.lSize[lv] = 0
    st.lCount[lv] = 0
    st.lHead[lv] = NONE
    st.lTail[lv] = NONE
    st.lSide[lv] = s
    ladder.insert(-at - 1, key, lv)
    return lv
  }

  private linkBack(o: number, lv: number): void {
    const st = this.store
    st.oLevel[o] = lv
    st.lSize[lv] += st.oSize[o]!
    st.lCount[lv]++
    this.append(o, lv)
  }

  private append(o: number, lv: number): void {
    const st = this.store
    const tail = st.lTail[lv]!
    st.oPrev[o] = tail
    st.oNext[o] = NONE
    if (tail === NONE) st.lHead[lv] = o
    else st.oNext[tail] = o
    st.lTail[lv] = o
  }

  private detach(o: number, lv: number): void {
    const st = this.store
    const prev = st.oPrev[o]!
    const next = st.oNext[o]!
    if (prev === NONE) st.lHead[lv] = next
    else st.oNext[prev] = next
    if (next === NONE) st.lTail[lv] = prev
    else st.oPrev[next] = prev
  }

  /** Takes an order out of its level (and the level out of its ladder when it empties). */
  private unlink(o: number): void {
    const st = this.store
    const lv = st.oLevel[o]!
    this.detach(o, lv)
    st.lSize[lv] -= st.oSize[o]!
    if (--st.lCount[lv] === 0) {
      const s = st.lSide[lv]!
      const ladder = s === BID ? this.bids : this.asks
      const price = st.lPrice[lv]!
      ladder.removeAt(ladder.find(s === BID ? price : -price))
      st.freeLevel(lv)
    }
  }
}

const grownI32 = (a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> => {
  const b = new Int32Array(n)
  b.set(a)
  return b
}

/** An order id from its 32-bit halves (signed or unsigned). */
export const idOf = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)

/** The int32 halves of a u64 order id or an i64 price (1e-9 units), as the hot-path methods take them. */
export const halves = (v: bigint): readonly [number, number] =>
  [Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v))]
