/**
 * The L3 books of a stream by instrument_id, applied record by record or over an MBO batch, with snapshot
 * handling (F_SNAPSHOT: Clear then Adds; older files omit the leading R) and anomaly counters.
 * shared/spec/databento.md §4 (actions, flags), §7 (book semantics, snapshots).
 */
import { Action, Flags } from "../dbn/Constants.js"
import type { MboBatch } from "../dbn/Batch.js"
import { Book, BookStore, NO_THRESHOLD_HI, NO_THRESHOLD_LO, Outcome } from "./Book.js"

/** Counters over every book. Anomalies never throw: each is counted and the book stays consistent. */
export interface BookCounts {
  adds: number
  cancels: number
  modifies: number
  /** R records (including snapshot clears). */
  clears: number
  /** Snapshots begun (one per instrument per snapshot). */
  snapshots: number
  /** Records carrying F_SNAPSHOT. */
  snapshotRecords: number
  /** Records carrying F_MAYBE_BAD_BOOK. */
  maybeBadBook: number
  /** Add of an order id already resting (applied as a replace). */
  duplicateAdds: number
  /** Cancel of an order id not in the book (ignored). */
  unknownCancels: number
  /** Modify of an order id not in the book (applied as an Add). */
  unknownModifies: number
  /** Cancel of more than the resting size (the order is removed; size never goes negative). */
  negativeSizes: number
  /** Add/Modify with side other than A/B (ignored). */
  badSides: number
  /** Add of size 0 or an Add/Modify with an undefined price (ignored). */
  badOrders: number
  /** Modify whose side differs from the resting order's (the resting side is kept). */
  sideChanges: number
}

export const emptyCounts = (): BookCounts => ({
  adds: 0,
  cancels: 0,
  modifies: 0,
  clears: 0,
  snapshots: 0,
  snapshotRecords: 0,
  maybeBadBook: 0,
  duplicateAdds: 0,
  unknownCancels: 0,
  unknownModifies: 0,
  negativeSizes: 0,
  badSides: 0,
  badOrders: 0,
  sideChanges: 0
})

export class Books {
  private readonly byId = new Map<number, Book>()
  /** Orders, levels and the order-id index of every book here. */
  readonly store = new BookStore()
  private lastId = -1
  private last: Book | undefined = undefined
  readonly counts: BookCounts = emptyCounts()

  get(instrumentId: number): Book | undefined {
    return this.byId.get(instrumentId)
  }

  getOrCreate(instrumentId: number): Book {
    if (instrumentId === this.lastId && this.last !== undefined) return this.last
    let book = this.byId.get(instrumentId)
    if (book === undefined) {
      book = new Book(instrumentId, this.store)
      this.byId.set(instrumentId, book)
    }
    this.lastId = instrumentId
    this.last = book
    return book
  }

  /** Forgets an instrument's book (after a definition delete), returning its orders' memory to the store. */
  delete(instrumentId: number): boolean {
    if (instrumentId === this.lastId) this.last = undefined
    const book = this.byId.get(instrumentId)
    if (book === undefined) return false
    book.clear()
    return this.byId.delete(instrumentId)
  }

  get size(): number {
    return this.byId.size
  }

  values(): IterableIterator<Book> {
    return this.byId.values()
  }

  /** Resting orders over all books. */
  get orderCount(): number {
    return this.store.orders
  }

  /**
   * Applies one MBO record to `book` and returns its `Outcome` (counted here). T, F and N leave the book as it is;
   * every action takes part in snapshot tracking. `side` is the DBN side byte; ids and prices are the int32 halves
   * of their 64-bit values (`MboBatch` orderIdHi/Lo and priceHi/Lo, each `| 0`).
   */
  applyRecord(
    book: Book,
    action: number,
    side: number,
    flags: number,
    idHi: number,
    idLo: number,
    priceHi: number,
    priceLo: number,
    size: number
  ): number {
    if ((flags & (Flags.SNAPSHOT | Flags.MAYBE_BAD_BOOK)) !== 0 || book.inSnapshot) this.noteFlags(book, action, flags)
    let outcome: number
    switch (action) {
      case Action.ADD:
        this.counts.adds++
        outcome = book.add(idHi, idLo, side, priceHi, priceLo, size)
        break
      case Action.CANCEL:
        this.counts.cancels++
        outcome = book.cancel(idHi, idLo, size)
        break
      case Action.MODIFY:
        this.counts.modifies++
        outcome = book.modify(idHi, idLo, side, priceHi, priceLo, size)
        break
      case Action.CLEAR:
        this.counts.clears++
        book.clear()
        return Outcome.OK
      default:
        return Outcome.OK
    }
    if (outcome !== Outcome.OK) this.count(outcome)
    return outcome
  }

  /**
   * Applies rows [from, to) of a batch in order: each book's runs of plain Add/Cancel/Modify rows through `Book.run`,
   * anything else (trades, clears, snapshot and bad-book rows) through `applyRecord`.
   */
  apply(batch: MboBatch, from = 0, to = batch.length): void {
    const ids = batch.instrumentId
    for (let i = from; i < to;) {
      const book = this.getOrCreate(ids[i]!)
      if (!book.inSnapshot) {
        // No event-time threshold: only an undefined ts_event (all ones) stops a run, and applyRecord takes it.
        const j = book.run(batch, i, to, NO_THRESHOLD_HI, NO_THRESHOLD_LO, this.counts)
        if (j > i) {
          if (book.lastOutcome !== Outcome.OK) this.count(book.lastOutcome)
          i = j
          continue
        }
      }
      this.applyRecord(
        book,
        batch.action[i]!,
        batch.side[i]!,
        batch.flags[i]!,
        batch.orderIdHi[i]! | 0,
        batch.orderIdLo[i]! | 0,
        batch.priceHi[i]!,
        batch.priceLo[i]! | 0,
        batch.size[i]!
      )
      i++
    }
  }

  /**
   * Snapshot boundaries and F_MAYBE_BAD_BOOK, for a record about to be applied to `book`. `applyRecord` calls it
   * only for records with F_SNAPSHOT or F_MAYBE_BAD_BOOK, or while the book is inside a snapshot (callers that
   * inline the action switch must do the same).
   */
  noteFlags(book: Book, action: number, flags: number): void {
    const c = this.counts
    if ((flags & Flags.SNAPSHOT) !== 0) {
      c.snapshotRecords++
      if (!book.inSnapshot) {
        // A snapshot replaces the book; files that omit the leading R still start from empty.
        c.snapshots++
        if (action !== Action.CLEAR) book.clear()
      }
      book.inSnapshot = (flags & Flags.LAST) === 0
    } else {
      book.inSnapshot = false
    }
    if ((flags & Flags.MAYBE_BAD_BOOK) !== 0) {
      c.maybeBadBook++
      book.maybeBad++
    }
  }

  /** Counts an anomaly outcome (for callers that inline the action switch). */
  count(outcome: number): void {
    const c = this.counts
    switch (outcome) {
      case Outcome.DUPLICATE_ADD:
        c.duplicateAdds++
        break
      case Outcome.UNKNOWN_CANCEL:
        c.unknownCancels++
        break
      case Outcome.UNKNOWN_MODIFY:
        c.unknownModifies++
        break
      case Outcome.OVER_CANCEL:
        c.negativeSizes++
        break
      case Outcome.BAD_SIDE:
        c.badSides++
        break
      case Outcome.BAD_ORDER:
        c.badOrders++
        break
      case Outcome.SIDE_CHANGE:
        c.sideChanges++
        break
    }
  }
}
