/** Shared by the live tests: rows of decoded MBO records as comparable lines, and the served data made historical. */
import { Duration, Effect, Redacted } from "effect"
import type { Book } from "../../src/book/Book.js"
import { Books } from "../../src/book/Books.js"
import type { DecodedChunk, MboBatch } from "../../src/dbn/Batch.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import { DbnWriter } from "../../src/dbn/Encoder.js"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import * as Cursor from "../../src/source/Cursor.js"

/** One line per MBO row with every field, so "equal" means equal row by row. */
export const rowsOf = (c: DecodedChunk, into: Array<string>): void => {
  const m = c.mbo
  for (let i = 0; i < m.length; i++) {
    into.push(
      `${m.sequence[i]} ${m.instrumentId[i]} ${m.tsEventHi[i]}:${m.tsEventLo[i]} ${m.orderIdHi[i]}:${m.orderIdLo[i]} ` +
        `${m.priceHi[i]}:${m.priceLo[i]} ${m.size[i]} ${m.flags[i]} ${m.action[i]} ${m.side[i]} ${m.tsRecvLo[i]} ${m.tsInDelta[i]}`
    )
  }
}

/** The served records (DBN v3 records without metadata), decoded directly: what a consumer must end up with. */
export const expectedRows = (bytes: Uint8Array): Array<string> => {
  const d = new DbnDecoder({ fragment: { version: 3 } })
  d.push(bytes)
  const rows: Array<string> = []
  rowsOf(d.drain(), rows)
  return rows
}

/** The served records decoded as one batch (row i = record i), to build books from. */
export const servedBatch = (bytes: Uint8Array): MboBatch => {
  const d = new DbnDecoder({ fragment: { version: 3 } })
  d.push(bytes)
  return d.drain().mbo
}

/** A gateway snapshot row (F_SNAPSHOT): the book as the gateway holds it, not a served record. */
export const isSnapshotRow = (row: string): boolean => (Number(row.split(" ")[6]) & 0x20) !== 0

/**
 * Every non-empty book as plain data: levels best first with their queues (order ids in priority order) and the
 * best bid and ask, so "equal" means the same orders at the same places.
 */
export const bookState = (books: Books) => {
  const side = (book: Book, s: "B" | "A") =>
    book.levels(s).map((l) => ({ ...l, queue: book.queue(s, l.price) }))
  return [...books.values()]
    .filter((b) => b.orderCount > 0)
    .sort((a, b) => a.instrumentId - b.instrumentId)
    .map((b) => ({
      instrumentId: b.instrumentId,
      best: [b.bestBidPrice, b.bestBidSize, b.bestAskPrice, b.bestAskSize],
      bids: side(b, "B"),
      asks: side(b, "A")
    }))
}

/** Books built from rows `[0, to)` of a batch, then from each row of `then` (row indices) in order. */
export const booksOf = (batch: MboBatch, to: number, then: ReadonlyArray<number> = []): Books => {
  const books = new Books()
  books.apply(batch, 0, to)
  for (const i of then) books.apply(batch, i, i + 1)
  return books
}

export const tsOfRow = (row: string): bigint => {
  const [hi, lo] = row.split(" ")[2]!.split(":").map(Number)
  return (BigInt(hi!) << 32n) | BigInt(lo!)
}

/**
 * What the historical API answers for `timeseries.get_range` over the served records: the MBO records with
 * start ≤ ts_event < end as a DBN v3 stream with metadata (no records for other schemas), as the real API does.
 */
export const historicalAnswer = (bytes: Uint8Array, withMetadata = false) => {
  const d = withMetadata ? new DbnDecoder() : new DbnDecoder({ fragment: { version: 3 } })
  d.push(bytes)
  const all = d.drain().mbo
  return (form: Readonly<Record<string, string>>): Uint8Array => {
    const start = BigInt(form["start"]!)
    const end = BigInt(form["end"]!)
    const mask = new Uint8Array(all.length)
    let n = 0
    for (let i = 0; i < all.length; i++) {
      const ts = (BigInt(all.tsEventHi[i]!) << 32n) | BigInt(all.tsEventLo[i]!)
      if (ts >= start && ts < end && form["schema"] === "mbo") {
        mask[i] = 1
        n++
      }
    }
    const w = new DbnWriter().metadata({
      version: 3,
      dataset: form["dataset"] ?? "GLBX.MDP3",
      schema: form["schema"] === "mbo" ? 0 : 9,
      start,
      end,
      limit: 0n,
      stype_in: 4,
      stype_out: 0,
      ts_out: false,
      symbol_cstr_len: 71,
      symbols: (form["symbols"] ?? "").split(","),
      partial: [],
      not_found: [],
      mappings: []
    })
    w.mboRows(Cursor.selectRows(all, mask, n))
    return w.toBytes()
  }
}

/** Waits for something the socket peers do (not for time): polls the condition on the event loop. */
export const until = (cond: () => boolean) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const check = () => (cond() ? resolve() : setTimeout(check, 1))
      check()
    })
  )

/** Client settings for a loopback gateway on `port`, with fast reconnects. */
export const liveSettings = (
  key: string,
  port: number,
  overrides: Partial<LiveConfig.LiveSettings> = {}
): LiveConfig.LiveSettings => ({
  ...LiveConfig.defaults,
  apiKey: Redacted.make(key),
  host: "127.0.0.1",
  port,
  reconnectBase: Duration.millis(1),
  reconnectMaxDelay: Duration.millis(20),
  ...overrides
})
