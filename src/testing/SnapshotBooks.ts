/**
 * The fake gateway's own MBO books, written apart from src/book so that tests compare two implementations: resting
 * orders per instrument in priority order, and the snapshot a gateway sends for `snapshot=1` (a Clear, then an Add
 * per order, F_SNAPSHOT). shared/spec/databento.md §7 (book semantics, "Snapshots"), §8.6.
 */
import { Action, Flags, RType, Side, UNDEF_PRICE } from "../dbn/Constants.js"
import { DbnWriter } from "../dbn/Encoder.js"
import * as Layout from "../dbn/Layout.js"

interface Order {
  readonly side: string
  /** 1e-9 units. */
  price: bigint
  size: number
  /** ts_event (ns) and sequence of the order's last update: a snapshot Add carries them. */
  tsEvent: bigint
  sequence: number
  publisherId: number
  channelId: number
}

interface Instrument {
  /** Insertion order is priority order: an order that loses its place is deleted and set again. */
  readonly orders: Map<bigint, Order>
  publisherId: number
  channelId: number
  /** Sequence of the instrument's last record, carried by its snapshot Clear. */
  sequence: number
}

const M = Layout.Mbo
const SNAPSHOT = Flags.SNAPSHOT | Flags.BAD_TS_RECV

export interface Snapshot {
  /** DBN v3 MBO records back to back. */
  readonly bytes: Uint8Array
  readonly records: number
}

export class SnapshotBooks {
  private readonly instruments = new Map<number, Instrument>()

  /** Applies the first `count` records of `bytes` (whole DBN v3 records of any rtype; only MBO records count). */
  applyRecords(bytes: Uint8Array, count: number): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let off = 0
    for (let n = 0; n < count && off < bytes.length; n++) {
      if (bytes[off + 1] === RType.MBO) this.applyMbo(view, off)
      off += bytes[off]! * 4
    }
  }

  /** Applies the MBO record at `off`. */
  applyMbo(view: DataView, off: number): void {
    const instrumentId = view.getUint32(off + 4, true)
    let inst = this.instruments.get(instrumentId)
    if (inst === undefined) {
      inst = { orders: new Map(), publisherId: 0, channelId: 0, sequence: 0 }
      this.instruments.set(instrumentId, inst)
    }
    const publisherId = view.getUint16(off + 2, true)
    const channelId = view.getUint8(off + M.channelId)
    const sequence = view.getUint32(off + M.sequence, true)
    inst.publisherId = publisherId
    inst.channelId = channelId
    inst.sequence = sequence
    const orders = inst.orders
    const id = view.getBigUint64(off + M.orderId, true)
    const price = view.getBigInt64(off + M.price, true)
    const size = view.getUint32(off + M.size_, true)
    const tsEvent = view.getBigUint64(off + 8, true)
    const side = view.getUint8(off + M.side)
    switch (view.getUint8(off + M.action)) {
      case Action.ADD: {
        if ((side !== Side.BID && side !== Side.ASK) || size === 0 || price === UNDEF_PRICE) return
        orders.delete(id)
        orders.set(id, { side: String.fromCharCode(side), price, size, tsEvent, sequence, publisherId, channelId })
        return
      }
      case Action.CANCEL: {
        const o = orders.get(id)
        if (o === undefined) return
        if (size >= o.size) {
          orders.delete(id)
          return
        }
        o.size -= size
        o.tsEvent = tsEvent
        o.sequence = sequence
        return
      }
      case Action.MODIFY: {
        const o = orders.get(id)
        if (o === undefined) {
          // An unknown order is an Add (spec §7).
          if ((side !== Side.BID && side !== Side.ASK) || size === 0 || price === UNDEF_PRICE) return
          orders.set(id, { side: String.fromCharCode(side), price, size, tsEvent, sequence, publisherId, channelId })
          return
        }
        if (price === UNDEF_PRICE) return
        if (size === 0) {
          orders.delete(id)
          return
        }
        const losesPlace = price !== o.price || size > o.size
        o.price = price
        o.size = size
        o.tsEvent = tsEvent
        o.sequence = sequence
        o.publisherId = publisherId
        o.channelId = channelId
        if (losesPlace) {
          orders.delete(id)
          orders.set(id, o)
        }
        return
      }
      case Action.CLEAR:
        orders.clear()
        return
      default:
        // Trade, Fill and None leave the book alone: the Cancels that follow a fill do the work.
        return
    }
  }

  /**
   * The snapshot as of now, taken at `nowNs`: per instrument (ascending id) a Clear and then an Add per resting
   * order in priority order, all flagged F_SNAPSHOT|F_BAD_TS_RECV; the instrument's last record adds F_LAST.
   */
  snapshot(nowNs: bigint): Snapshot {
    let records = 0
    for (const inst of this.instruments.values()) records += 1 + inst.orders.size
    const w = new DbnWriter({ initialCapacity: records * M.size })
    const ids = [...this.instruments.keys()].sort((a, b) => a - b)
    for (const instrumentId of ids) {
      const inst = this.instruments.get(instrumentId)!
      let left = inst.orders.size
      w.mbo({
        _tag: "mbo",
        hd: {
          length: M.size,
          rtype: RType.MBO,
          publisher_id: inst.publisherId,
          instrument_id: instrumentId,
          ts_event: nowNs
        },
        order_id: 0n,
        price: UNDEF_PRICE,
        size: 0,
        flags: left === 0 ? SNAPSHOT | Flags.LAST : SNAPSHOT,
        channel_id: inst.channelId,
        action: "R",
        side: "N",
        ts_recv: nowNs,
        ts_in_delta: 0,
        sequence: inst.sequence
      })
      for (const [orderId, o] of inst.orders) {
        left--
        w.mbo({
          _tag: "mbo",
          hd: {
            length: M.size,
            rtype: RType.MBO,
            publisher_id: o.publisherId,
            instrument_id: instrumentId,
            ts_event: o.tsEvent
          },
          order_id: orderId,
          price: o.price,
          size: o.size,
          flags: left === 0 ? SNAPSHOT | Flags.LAST : SNAPSHOT,
          channel_id: o.channelId,
          action: "A",
          side: o.side,
          ts_recv: nowNs,
          ts_in_delta: 0,
          sequence: o.sequence
        })
      }
    }
    return { bytes: w.toBytes(), records }
  }
}
