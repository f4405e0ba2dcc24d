/**
 * One L3 (market-by-order) book: resting orders in FIFO queues per price level, levels sorted per side, best bid
 * and ask always current. Add / Cancel / Modify / Clear with Databento's semantics (shared/spec/databento.md §7).
 * Orders, levels and the u64 order-id index live in typed-array pools of a `BookStore` shared by all the books of a
 * stream, each record interleaved in one cache line (dense with thousands of books); applying a record allocates
 * nothing.
 */
import { allocMboBatch, type MboBatch } from "../dbn/Batch.js"
import { Action, Flags, Side } from "../dbn/Constants.js"

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
/** `BookStore.locate`: the id is absent and inserting it needs the table to grow first. */
const NEEDS_GROWTH = -2
/** Sizes are kept in int32; anything larger (e.g. UNDEF_ORDER_SIZE) is not a real order. */
const MAX_SIZE = 0x7fffffff
/**
 * `run`'s threshold halves when no event clock is kept: the largest u64, its low half given signed as `run` takes it
 * (a u32 above 2^31 passed to a call would be boxed into a new heap number each time).
 */
export const NO_THRESHOLD_HI = 0xffffffff
export const NO_THRESHOLD_LO = -1
/** Rows with these flags are left to the caller by `Book.run` (snapshot tracking). */
const SNAPSHOT_OR_BAD = Flags.SNAPSHOT | Flags.MAYBE_BAD_BOOK

/** Per-action counters `Book.run` adds to (`BookCounts` has them). */
export interface ActionCounts {
  adds: number
  cancels: number
  modifies: number
}

/** The row the single-record actions are written to, and the counts nobody reads that they add to. */
const ONE = allocMboBatch(1)
const DISCARDED: ActionCounts = { adds: 0, cancels: 0, modifies: 0 }

const INITIAL_ORDERS = 1024
const INITIAL_LEVELS = 512
const INITIAL_LADDER = 8
/** A cleared book whose ladders grew past this many levels gives the memory back. */
const SHRINK_LADDER_ABOVE = 1024

// An order is one entry of the index table `tab`: 8 int32 (32 bytes, one cache line holds two), found by hashing
// (book, id). Its handle is the entry's first index (entry number × 8). Entries move only when backward-shift
// deletion or growth relocates them, and then every link to them is fixed, so a handle stays valid until the next
// insertion or deletion.
const T_BOOK = 0
const T_HI = 1
const T_LO = 2
const O_SIZE = 3
const O_LEVEL = 4
const O_PREV = 5
const O_NEXT = 6
const T_STRIDE = 8
// A level is 32 bytes of one buffer: two f64 in `lvF` (at handle·4) then four int32 in `lvI` (at handle·8).
const L_PRICE = 0
const L_SIZE = 1
const L_COUNT = 4
const L_HEAD = 5
const L_TAIL = 6
const L_SIDE = 7
const L_BYTES = 32

/** Hash of (book, u64 id as int32 halves) to an entry number; `shift` = 32 − log2(entries). */
const hashOf = (book: number, hi: number, lo: number, shift: number): number =>
  Math.imul(lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(book, 0xc2b2ae35), 0x9e3779b1) >>> shift

/**
 * A table of free entries. Only T_BOOK marks an entry free, and every other field is written when the entry is
 * taken, so the whole table is filled with EMPTY: one native fill instead of a strided loop that runs, still
 * unoptimized, while the first chunks double the table.
 */
const emptyTable = (entries: number): Int32Array<ArrayBuffer> => new Int32Array(entries * T_STRIDE).fill(EMPTY)

/**
 * Storage shared by the books of one stream: the orders, kept in an open-addressing table keyed by
 * (book, order_id) (linear probing, load ≤ 1/2, backward-shift deletion), and a level pool (slots reused through a
 * free list). An order's key, size and queue links are one 32-byte entry, so finding an order and reading it is
 * one cache line; a level is another. Keys are exact int32 halves, so any u64 order id works (no 2^53 limit).
 * Both grow by doubling up to the high-water mark of live orders and levels.
 */
export class BookStore {
  /** Order entries, T_STRIDE int32 each; T_BOOK is EMPTY on a free entry. */
  tab = emptyTable(INITIAL_ORDERS * 2)
  private tShift = 32 - Math.log2(INITIAL_ORDERS * 2)
  /** Live orders over all books. */
  orders = 0

  /** Levels: f64 and int32 views of one buffer. */
  lvF: Float64Array<ArrayBuffer>
  lvI: Int32Array<ArrayBuffer>
  private lTop = 0
  private lFree = NONE

  private books = 0

  constructor() {
    const buffer = new ArrayBuffer(INITIAL_LEVELS * L_BYTES)
    this.lvF = new Float64Array(buffer)
    this.lvI = new Int32Array(buffer)
  }

  /** A number for a new book (part of every order key). */
  register(): number {
    return this.books++
  }

  /** Order entries allocated (for memory reports). */
  get orderCapacity(): number {
    return this.tab.length / T_STRIDE
  }

  /** Handle of the order (book, id), or EMPTY. */
  find(book: number, hi: number, lo: number): number {
    const tab = this.tab
    const end = tab.length
    let e = hashOf(book, hi, lo, this.tShift) * T_STRIDE
    for (;;) {
      const b = tab[e + T_BOOK]!
      if (b === EMPTY) return EMPTY
      if (tab[e + T_LO] === lo && tab[e + T_HI] === hi && b === book) return e
      e += T_STRIDE
      if (e === end) e = 0
    }
  }

  /**
   * Handle of the order (book, id) when present; otherwise, when one more entry fits without growing, `~e` where
   * `e` is the free entry `insert` would take (so `claim(~r, …)` saves a second probe), else NEEDS_GROWTH
   * (handles are multiples of T_STRIDE, so `~e` is never −2).
   */
  locate(book: number, hi: number, lo: number): number {
    const tab = this.tab
    const end = tab.length
    let e = hashOf(book, hi, lo, this.tShift) * T_STRIDE
    for (;;) {
      const b = tab[e + T_BOOK]!
      if (b === EMPTY) return (this.orders + 1) * 2 * T_STRIDE > end ? NEEDS_GROWTH : ~e
      if (tab[e + T_LO] === lo && tab[e + T_HI] === hi && b === book) return e
      e += T_STRIDE
      if (e === end) e = 0
    }
  }

  /** Takes the free entry `e` found by `locate` for an absent (book, id), unlinked; returns its handle. */
  claim(e: number, book: number, hi: number, lo: number): number {
    const tab = this.tab
    tab[e + T_BOOK] = book
    tab[e + T_HI] = hi
    tab[e + T_LO] = lo
    tab[e + O_LEVEL] = NONE
    this.orders++
    return e
  }

  /** Creates the entry of an absent (book, id), unlinked, growing first; returns its handle. */
  insert(book: number, hi: number, lo: number): number {
    if ((this.orders + 1) * 2 * T_STRIDE > this.tab.length) this.grow()
    const tab = this.tab
    const end = tab.length
    let e = hashOf(book, hi, lo, this.tShift) * T_STRIDE
    while (tab[e + T_BOOK] !== EMPTY) {
      e += T_STRIDE
      if (e === end) e = 0
    }
    tab[e + T_BOOK] = book
    tab[e + T_HI] = hi
    tab[e + T_LO] = lo
    tab[e + O_LEVEL] = NONE
    this.orders++
    return e
  }

  /** Deletes an entry that no queue links to any more. Entries moved into the hole keep their links right. */
  delete(e: number): void {
    const tab = this.tab
    const end = tab.length
    const shift = this.tShift
    this.orders--
    // Backward-shift deletion: pull later entries of the probe run into the hole when their home allows it.
    let hole = e
    let j = e
    for (;;) {
      j += T_STRIDE
      if (j === end) j = 0
      if (tab[j + T_BOOK] === EMPTY) break
      const home = hashOf(tab[j + T_BOOK]!, tab[j + T_HI]!, tab[j + T_LO]!, shift) * T_STRIDE
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j
      if (movable) {
        // Seven fields by hand: copyWithin is a builtin call, dearer than the copy itself at this size.
        tab[hole + T_BOOK] = tab[j + T_BOOK]!
        tab[hole + T_HI] = tab[j + T_HI]!
        tab[hole + T_LO] = tab[j + T_LO]!
        tab[hole + O_SIZE] = tab[j + O_SIZE]!
        tab[hole + O_LEVEL] = tab[j + O_LEVEL]!
        tab[hole + O_PREV] = tab[j + O_PREV]!
        tab[hole + O_NEXT] = tab[j + O_NEXT]!
        this.relinked(hole)
        hole = j
      }
    }
    tab[hole + T_BOOK] = EMPTY
  }

  /** A free level handle. */
  allocLevel(): number {
    const f = this.lFree
    if (f !== NONE) {
      this.lFree = this.lvI[(f << 3) + L_HEAD]!
      return f
    }
    if ((this.lTop + 1) * L_BYTES > this.lvF.buffer.byteLength) this.growLevels()
    return this.lTop++
  }

  freeLevel(lv: number): void {
    this.lvI[(lv << 3) + L_COUNT] = -1
    this.lvI[(lv << 3) + L_HEAD] = this.lFree
    this.lFree = lv
  }

  /** Points the neighbours (or the level's head/tail) of the order now at `e` to `e`. */
  private relinked(e: number): void {
    const tab = this.tab
    const lv = tab[e + O_LEVEL]!
    if (lv === NONE) return
    const prev = tab[e + O_PREV]!
    const next = tab[e + O_NEXT]!
    if (prev === NONE) this.lvI[(lv << 3) + L_HEAD] = e
    else tab[prev + O_NEXT] = e
    if (next === NONE) this.lvI[(lv << 3) + L_TAIL] = e
    else tab[next + O_PREV] = e
  }

  private growLevels(): void {
    const buffer = new ArrayBuffer(this.lvF.buffer.byteLength * 2)
    new Uint8Array(buffer).set(new Uint8Array(this.lvF.buffer))
    this.lvF = new Float64Array(buffer)
    this.lvI = new Int32Array(buffer)
  }

  /** Doubles the table: every entry is rehashed, then every link (queue neighbours, level head/tail) remapped. */
  private grow(): void {
    const old = this.tab
    const entries = (old.length / T_STRIDE) * 2
    const tab = (this.tab = emptyTable(entries))
    this.tShift = 32 - Math.log2(entries)
    const end = tab.length
    const moved = new Int32Array(old.length / T_STRIDE)
    for (let o = 0; o < old.length; o += T_STRIDE) {
      if (old[o + T_BOOK] === EMPTY) continue
      let e = hashOf(old[o + T_BOOK]!, old[o + T_HI]!, old[o + T_LO]!, this.tShift) * T_STRIDE
      while (tab[e + T_BOOK] !== EMPTY) {
        e += T_STRIDE
        if (e === end) e = 0
      }
      tab.set(old.subarray(o, o + T_STRIDE), e)
      moved[o / T_STRIDE] = e
    }
    for (let e = 0; e < end; e += T_STRIDE) {
      if (tab[e + T_BOOK] === EMPTY || tab[e + O_LEVEL] === NONE) continue
      const prev = tab[e + O_PREV]!
      const next = tab[e + O_NEXT]!
      if (prev !== NONE) tab[e + O_PREV] = moved[prev / T_STRIDE]!
      if (next !== NONE) tab[e + O_NEXT] = moved[next / T_STRIDE]!
    }
    const lvI = this.lvI
    for (let lv = 0; lv < this.lTop; lv++) {
      const i = lv << 3
      if (lvI[i + L_COUNT]! <= 0) continue
      lvI[i + L_HEAD] = moved[lvI[i + L_HEAD]! / T_STRIDE]!
      lvI[i + L_TAIL] = moved[lvI[i + L_TAIL]! / T_STRIDE]!
    }
  }
}

/**
 * One side's levels: keys ascending with the best level last (bids key on price, asks on −price: `sign`).
 * Prices come in as the int32 halves of the i64 and become a double key only inside: a double passed to or returned
 * from a call that is not inlined is boxed into a new heap number, and at millions of records a second those boxes
 * are most of what the hot path allocates.
 */
class Ladder {
  key: Float64Array
  level: Int32Array
  n = 0
  constructor(readonly sign: 1 | -1, capacity: number) {
    this.key = new Float64Array(capacity)
    this.level = new Int32Array(capacity)
  }

  /**
   * Index of the level at the price with int32 halves `hi`, `lo` (1e-9 units), or −(insertion point) − 1. Most
   * activity is within a few levels of the best, so the top 4 entries are scanned linearly (predictable branches)
   * before a binary search of the rest.
   */
  find(hi: number, lo: number): number {
    const key = this.sign * (hi * TWO_32 + (lo >>> 0))
    const keys = this.key
    const n = this.n
    const stop = n > 4 ? n - 4 : 0
    for (let j = n - 1; j >= stop; j--) {
      const k = keys[j]!
      if (k === key) return j
      if (k < key) return -(j + 1) - 1
    }
    let l = 0
    let h = stop - 1
    while (l <= h) {
      const mid = (l + h) >>> 1
      const k = keys[mid]!
      if (k < key) l = mid + 1
      else if (k > key) h = mid - 1
      else return mid
    }
    return -l - 1
  }

  /** Inserts the level at the price with halves `hi`, `lo` at `at` (an insertion point from `find`). */
  insert(at: number, hi: number, lo: number, level: number): void {
    if (this.n === this.key.length) this.grow()
    const key = this.sign * (hi * TWO_32 + (lo >>> 0))
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
   * Moves the entry at `from` to insertion point `to` (computed with the entry still in place) under the key of the
   * price with halves `hi`, `lo`, which keeps the ladder sorted there.
   */
  move(from: number, to: number, hi: number, lo: number): void {
    const key = this.sign * (hi * TWO_32 + (lo >>> 0))
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
  private bids = new Ladder(1, INITIAL_LADDER)
  private asks = new Ladder(-1, INITIAL_LADDER)

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
    return l.n === 0 ? 0 : this.store.lvF[(l.level[l.n - 1]! << 2) + L_SIZE]!
  }

  /** Orders at the best bid; 0 when none. */
  get bestBidCount(): number {
    const l = this.bids
    return l.n === 0 ? 0 : this.store.lvI[(l.level[l.n - 1]! << 3) + L_COUNT]!
  }

  /** Best ask price, 1e-9 units; NaN when there are no asks. */
  get bestAskPrice(): number {
    const l = this.asks
    return l.n === 0 ? NaN : -l.key[l.n - 1]!
  }

  get bestAskSize(): number {
    const l = this.asks
    return l.n === 0 ? 0 : this.store.lvF[(l.level[l.n - 1]! << 2) + L_SIZE]!
  }

  get bestAskCount(): number {
    const l = this.asks
    return l.n === 0 ? 0 : this.store.lvI[(l.level[l.n - 1]! << 3) + L_COUNT]!
  }

  /** Whether an order id is resting (u64 as its high and low 32-bit halves, signed or unsigned). */
  has(idHi: number, idLo: number): boolean {
    return this.store.find(this.no, idHi | 0, idLo | 0) !== EMPTY
  }

  // ---- actions ---------------------------------------------------------------------------------------------
  // Ids and prices arrive as int32 halves of their 64-bit values (MboBatch orderIdHi/Lo, priceHi/Lo, `| 0`), so
  // calls pass V8 small integers and never box doubles; the price is rebuilt as a double (1e-9 units, exact below
  // 2^53) only where it is stored or compared. The single-record actions go through `run` on a one-row batch, so
  // there is one implementation of each action.

  /**
   * Add: a new order at the back of its level. `side` is the DBN side byte (`B`/`A`); the price is given as the
   * int32 halves of the i64 (1e-9 units). An id already resting is replaced (DUPLICATE_ADD).
   */
  add(idHi: number, idLo: number, side: number, priceHi: number, priceLo: number, size: number): number {
    return this.one(Action.ADD, idHi, idLo, side, priceHi, priceLo, size)
  }

  /** Cancel: removes `size` from the resting order (all of it at 0). The order's own price and side are used. */
  cancel(idHi: number, idLo: number, size: number): number {
    return this.one(Action.CANCEL, idHi, idLo, Side.NONE, 0, 0, size)
  }

  /**
   * Modify: price and `size` are the order's new values. Unknown id → Add (UNKNOWN_MODIFY). A price change, or
   * a larger size at the same price, moves the order to the back of its (new) level; a smaller or equal size at
   * the same price keeps its place. The side never changes. Size 0 removes the order.
   */
  modify(idHi: number, idLo: number, side: number, priceHi: number, priceLo: number, size: number): number {
    return this.one(Action.MODIFY, idHi, idLo, side, priceHi, priceLo, size)
  }

  /** Outcome of the row that ended the last `run` (OK when no row did). */
  lastOutcome: number = Outcome.OK

  /**
   * Applies this book's Add, Cancel and Modify rows of `b` from `from` on and returns the index of the first row it
   * did not apply: a row of another instrument, another action, a row flagged F_SNAPSHOT or F_MAYBE_BAD_BOOK (the
   * caller tracks snapshots), a row whose ts_event is at or past the threshold halves `thHi`/`thLo` (the caller
   * moves its event clock first), or `to`. A row whose outcome is not OK is applied and ends the run: its outcome is
   * in `lastOutcome` and the return value is one past it. Applied actions are counted in `counts`. `thLo` may be
   * given signed (`| 0`): a u32 above 2^31 passed to a call is boxed into a new heap number.
   *
   * One loop over the batch's columns: runs of one instrument's book records are the bulk of an MBO stream, and a
   * call per record into a method that loads them again cost the engine ~10 % more time (BENCHMARKS.md, session 5).
   */
  run(b: MboBatch, from: number, to: number, thHi: number, thLo: number, counts: ActionCounts): number {
    const instrumentId = this.instrumentId
    const ids = b.instrumentId
    const eHi = b.tsEventHi
    const eLo = b.tsEventLo
    const actions = b.action
    const sides = b.side
    const flags = b.flags
    const oHi = b.orderIdHi
    const oLo = b.orderIdLo
    const pHi = b.priceHi
    const pLo = b.priceLo
    const sizes = b.size
    const st = this.store
    const no = this.no
    const thLoU = thLo >>> 0
    let adds = 0
    let cancels = 0
    let modifies = 0
    let outcome: number = Outcome.OK
    let i = from
    for (; i < to; i++) {
      const a = actions[i]!
      if (ids[i] !== instrumentId || (flags[i]! & SNAPSHOT_OR_BAD) !== 0) break
      const t = eHi[i]!
      if (t >= thHi && (t > thHi || eLo[i]! >= thLoU)) break
      const idHi = oHi[i]! | 0
      const idLo = oLo[i]! | 0
      const size = sizes[i]!
      if (a === Action.CANCEL) {
        cancels++
        const o = st.find(no, idHi, idLo)
        if (o === EMPTY) {
          outcome = Outcome.UNKNOWN_CANCEL
        } else {
          const tab = st.tab
          const resting = tab[o + O_SIZE]!
          if (size < resting) {
            tab[o + O_SIZE] = resting - size
            st.lvF[(tab[o + O_LEVEL]! << 2) + L_SIZE] -= size
          } else {
            this.remove(o)
            if (size > resting) outcome = Outcome.OVER_CANCEL
          }
        }
      } else if (a === Action.ADD || a === Action.MODIFY) {
        const priceHi = pHi[i]!
        const priceLo = pLo[i]! | 0
        const side = sides[i]!
        const undefinedPrice = priceHi === UNDEF_HI && priceLo === UNDEF_LO
        let o = st.locate(no, idHi, idLo)
        let s = side === Side.BID ? BID : side === Side.ASK ? ASK : NONE
        if (a === Action.MODIFY) {
          modifies++
          if (o >= 0) {
            if (undefinedPrice || size > MAX_SIZE) {
              outcome = Outcome.BAD_ORDER
            } else if (size === 0) {
              this.remove(o)
            } else {
              const tab = st.tab
              const lvF = st.lvF
              const lv = tab[o + O_LEVEL]!
              const given = s
              s = st.lvI[(lv << 3) + L_SIDE]!
              if (given !== NONE && given !== s) outcome = Outcome.SIDE_CHANGE
              const old = tab[o + O_SIZE]!
              const price = priceHi * TWO_32 + (priceLo >>> 0)
              const was = lvF[(lv << 2) + L_PRICE]!
              if (was === price) {
                // Same price: a larger size loses priority (to the back of its level), a smaller one keeps it.
                lvF[(lv << 2) + L_SIZE] += size - old
                tab[o + O_SIZE] = size
                if (size > old && st.lvI[(lv << 3) + L_TAIL] !== o) {
                  this.detach(o, lv)
                  this.append(o, lv)
                }
              } else if (!this.moveLone(o, lv, s, priceHi, priceLo, size)) {
                this.unlink(o)
                this.linkBack(o, this.levelFor(s, priceHi, priceLo), size)
              }
            }
            if (outcome !== Outcome.OK) {
              i++
              break
            }
            continue
          }
        } else {
          adds++
        }
        // An Add, or a Modify of an order not in the book (applied as an Add).
        if (s === NONE) {
          outcome = Outcome.BAD_SIDE
        } else if (!(size > 0 && size <= MAX_SIZE) || undefinedPrice) {
          outcome = Outcome.BAD_ORDER
        } else {
          if (o >= 0) {
            this.unlink(o)
            outcome = Outcome.DUPLICATE_ADD
          } else {
            o = o === NEEDS_GROWTH ? st.insert(no, idHi, idLo) : st.claim(~o, no, idHi, idLo)
            this.live++
            if (a === Action.MODIFY) outcome = Outcome.UNKNOWN_MODIFY
          }
          this.linkBack(o, this.levelFor(s, priceHi, priceLo), size)
        }
      } else {
        break
      }
      if (outcome !== Outcome.OK) {
        i++
        break
      }
    }
    counts.adds += adds
    counts.cancels += cancels
    counts.modifies += modifies
    this.lastOutcome = outcome
    return i
  }

  /** One action through `run`, on the shared one-row batch. */
  private one(
    action: number,
    idHi: number,
    idLo: number,
    side: number,
    priceHi: number,
    priceLo: number,
    size: number
  ): number {
    const r = ONE
    r.instrumentId[0] = this.instrumentId
    r.action[0] = action
    r.side[0] = side
    r.orderIdHi[0] = idHi
    r.orderIdLo[0] = idLo
    r.priceHi[0] = priceHi
    r.priceLo[0] = priceLo
    r.size[0] = size
    this.run(r, 0, 1, NO_THRESHOLD_HI, NO_THRESHOLD_LO, DISCARDED)
    return this.lastOutcome
  }

  /** Clear: removes every order (their entries and levels go back to the store). */
  clear(): void {
    const st = this.store
    const ids: Array<number> = []
    for (const ladder of [this.bids, this.asks]) {
      for (let j = 0; j < ladder.n; j++) {
        const lv = ladder.level[j]!
        let o = st.lvI[(lv << 3) + L_HEAD]!
        while (o !== NONE) {
          const tab = st.tab
          const next = tab[o + O_NEXT]!
          ids.push(tab[o + T_HI]!, tab[o + T_LO]!)
          // Unlinked first, so deleting the others never relinks into a freed level.
          tab[o + O_LEVEL] = NONE
          o = next
        }
        st.freeLevel(lv)
      }
      ladder.n = 0
    }
    for (let k = 0; k < ids.length; k += 2) st.delete(st.find(this.no, ids[k]!, ids[k + 1]!))
    this.live = 0
    if (this.bids.key.length > SHRINK_LADDER_ABOVE) this.bids = new Ladder(1, INITIAL_LADDER)
    if (this.asks.key.length > SHRINK_LADDER_ABOVE) this.asks = new Ladder(-1, INITIAL_LADDER)
  }

  // ---- inspection (tests, reports; allocates) -------------------------------------------------------------

  /** Levels of one side, best first. */
  levels(side: "B" | "A", limit = Infinity): Array<LevelView> {
    const st = this.store
    const l = side === "B" ? this.bids : this.asks
    const out: Array<LevelView> = []
    for (let j = l.n - 1; j >= 0 && out.length < limit; j--) {
      const lv = l.level[j]!
      out.push({
        price: st.lvF[(lv << 2) + L_PRICE]!,
        size: st.lvF[(lv << 2) + L_SIZE]!,
        count: st.lvI[(lv << 3) + L_COUNT]!
      })
    }
    return out
  }

  /** Order ids queued at one price (1e-9 units) of one side, first in priority first. */
  queue(side: "B" | "A", price: number): Array<bigint> {
    const st = this.store
    const l = side === "B" ? this.bids : this.asks
    const [hi, lo] = halves(BigInt(price))
    const at = l.find(hi, lo)
    const out: Array<bigint> = []
    if (at < 0) return out
    for (let o = st.lvI[(l.level[at]! << 3) + L_HEAD]!; o !== NONE; o = st.tab[o + O_NEXT]!) {
      out.push(idOf(st.tab[o + T_HI]!, st.tab[o + T_LO]!))
    }
    return out
  }

  /** One resting order, or undefined. */
  order(orderId: bigint): OrderView | undefined {
    const st = this.store
    const [hi, lo] = halves(orderId)
    const o = st.find(this.no, hi, lo)
    if (o === EMPTY) return undefined
    const lv = st.tab[o + O_LEVEL]!
    let position = 0
    for (let p = st.tab[o + O_PREV]!; p !== NONE; p = st.tab[p + O_PREV]!) position++
    return {
      orderId,
      side: st.lvI[(lv << 3) + L_SIDE] === BID ? "B" : "A",
      price: st.lvF[(lv << 2) + L_PRICE]!,
      size: st.tab[o + O_SIZE]!,
      queuePosition: position
    }
  }

  /**
   * Checks every structural invariant (sorted ladders, level totals and counts equal to their queues, queue links,
   * index ↔ orders, no empty level, positive sizes) and describes each violation; empty when consistent.
   */
  checkInvariants(): Array<string> {
    const st = this.store
    const ord = st.tab
    const problems: Array<string> = []
    let orders = 0
    for (const [l, s, name] of [[this.bids, BID, "bid"], [this.asks, ASK, "ask"]] as const) {
      for (let j = 0; j < l.n; j++) {
        const lv = l.level[j]!
        if (j > 0 && !(l.key[j - 1]! < l.key[j]!)) problems.push(`${name} ladder not strictly sorted at ${j}`)
        const price = st.lvF[(lv << 2) + L_PRICE]!
        if ((s === BID ? price : -price) !== l.key[j]) problems.push(`${name} level ${price} key mismatch`)
        if (st.lvI[(lv << 3) + L_SIDE] !== s) problems.push(`${name} level ${price} has the wrong side`)
        let size = 0
        let count = 0
        let prev = NONE
        for (let o = st.lvI[(lv << 3) + L_HEAD]!; o !== NONE; o = ord[o + O_NEXT]!) {
          if (ord[o + O_PREV] !== prev) problems.push(`broken queue link at ${name} ${price}`)
          if (ord[o + O_LEVEL] !== lv) problems.push(`order in ${name} ${price} points at another level`)
          if (!(ord[o + O_SIZE]! > 0)) problems.push(`order with size ${ord[o + O_SIZE]} at ${name} ${price}`)
          if (ord[o + T_BOOK] !== this.no) problems.push(`order at ${name} ${price} belongs to another book`)
          if (st.find(this.no, ord[o + T_HI]!, ord[o + T_LO]!) !== o) problems.push(`order at ${name} ${price} not indexed`)
          size += ord[o + O_SIZE]!
          count++
          prev = o
          if (count > this.live) break
        }
        if (st.lvI[(lv << 3) + L_TAIL] !== prev) problems.push(`${name} ${price} tail mismatch`)
        if (count === 0) problems.push(`empty ${name} level ${price}`)
        const lc = st.lvI[(lv << 3) + L_COUNT]!
        const ls = st.lvF[(lv << 2) + L_SIZE]!
        if (count !== lc) problems.push(`${name} ${price} count ${lc} != ${count}`)
        if (size !== ls) problems.push(`${name} ${price} size ${ls} != ${size}`)
        orders += count
      }
    }
    if (orders !== this.live) problems.push(`order count ${this.live} != ${orders} queued`)
    let indexed = 0
    for (let e = 0; e < ord.length; e += T_STRIDE) if (ord[e + T_BOOK] === this.no) indexed++
    if (indexed !== this.live) problems.push(`index holds ${indexed} ids for ${this.live} orders`)
    return problems
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private remove(o: number): void {
    this.unlink(o)
    this.store.delete(o)
    this.live--
  }

  /**
   * Handle of the level on side `s` at the price with int32 halves `hi`, `lo` (1e-9 units), created (and placed in
   * its ladder) when absent.
   */
  private levelFor(s: number, hi: number, lo: number): number {
    const ladder = s === BID ? this.bids : this.asks
    const at = ladder.find(hi, lo)
    if (at >= 0) return ladder.level[at]!
    const st = this.store
    const lv = st.allocLevel()
    const f = lv << 2
    const i = lv << 3
    st.lvF[f + L_PRICE] = hi * TWO_32 + (lo >>> 0)
    st.lvF[f + L_SIZE] = 0
    const lvI = st.lvI
    lvI[i + L_COUNT] = 0
    lvI[i + L_HEAD] = NONE
    lvI[i + L_TAIL] = NONE
    lvI[i + L_SIDE] = s
    ladder.insert(-at - 1, hi, lo, lv)
    return lv
  }

  /** Puts order `o` with `size` at the back of level `lv`. */
  private linkBack(o: number, lv: number, size: number): void {
    const st = this.store
    st.tab[o + O_SIZE] = size
    st.tab[o + O_LEVEL] = lv
    st.lvF[(lv << 2) + L_SIZE] += size
    st.lvI[(lv << 3) + L_COUNT]++
    this.append(o, lv)
  }

  /**
   * A lone order re-quoted to a price with no level yet (the common market-maker move): the level itself moves, one
   * ladder shift instead of a removal and an insertion. False, with nothing changed, in any other case.
   */
  private moveLone(o: number, lv: number, s: number, priceHi: number, priceLo: number, size: number): boolean {
    const st = this.store
    if (st.lvI[(lv << 3) + L_COUNT] !== 1) return false
    const ladder = s === BID ? this.bids : this.asks
    const to = ladder.find(priceHi, priceLo)
    if (to >= 0) return false
    const was = st.lvF[(lv << 2) + L_PRICE]!
    const wasHi = Math.floor(was / TWO_32) | 0
    ladder.move(ladder.find(wasHi, (was - wasHi * TWO_32) | 0), -to - 1, priceHi, priceLo)
    st.lvF[(lv << 2) + L_PRICE] = priceHi * TWO_32 + (priceLo >>> 0)
    st.lvF[(lv << 2) + L_SIZE] = size
    st.tab[o + O_SIZE] = size
    return true
  }

  private append(o: number, lv: number): void {
    const st = this.store
    const ord = st.tab
    const lvI = st.lvI
    const i = lv << 3
    const tail = lvI[i + L_TAIL]!
    ord[o + O_PREV] = tail
    ord[o + O_NEXT] = NONE
    if (tail === NONE) lvI[i + L_HEAD] = o
    else ord[tail + O_NEXT] = o
    lvI[i + L_TAIL] = o
  }

  private detach(o: number, lv: number): void {
    const st = this.store
    const ord = st.tab
    const lvI = st.lvI
    const i = lv << 3
    const prev = ord[o + O_PREV]!
    const next = ord[o + O_NEXT]!
    if (prev === NONE) lvI[i + L_HEAD] = next
    else ord[prev + O_NEXT] = next
    if (next === NONE) lvI[i + L_TAIL] = prev
    else ord[next + O_PREV] = prev
  }

  /** Takes an order out of its level (and the level out of its ladder when it empties). */
  private unlink(o: number): void {
    const st = this.store
    const lv = st.tab[o + O_LEVEL]!
    this.detach(o, lv)
    st.lvF[(lv << 2) + L_SIZE] -= st.tab[o + O_SIZE]!
    if (--st.lvI[(lv << 3) + L_COUNT] === 0) {
      const s = st.lvI[(lv << 3) + L_SIDE]!
      const ladder = s === BID ? this.bids : this.asks
      const price = st.lvF[(lv << 2) + L_PRICE]!
      const hi = Math.floor(price / TWO_32) | 0
      ladder.removeAt(ladder.find(hi, (price - hi * TWO_32) | 0))
      st.freeLevel(lv)
    }
  }
}

/** An order id from its 32-bit halves (signed or unsigned). */
export const idOf = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)

/** The int32 halves of a u64 order id or an i64 price (1e-9 units), as the hot-path methods take them. */
export const halves = (v: bigint): readonly [number, number] =>
  [Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v))]
