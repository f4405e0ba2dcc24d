/**
 * The simulator's byte side: collects MBO records column-wise into an `MboBatch` (exact u32 halves, no BigInt)
 * and hands them to the codec's `DbnWriter`, which owns the DBN v3 bytes; counts what was written.
 */
import { allocMboBatch, type MboBatch } from "../dbn/Batch.js"
import { DbnWriter } from "../dbn/Encoder.js"
import type { Metadata } from "../dbn/Metadata.js"
import type { DbnRecord } from "../dbn/Records.js"
import { PUBLISHER_ID } from "./Definitions.js"
import type { MboSink } from "./Market.js"

const TWO_32 = 4294967296
const MBO_SIZE = 56
const BATCH_ROWS = 4096

export class SessionWriter implements MboSink {
  /** MBO records written, per action byte. */
  readonly byAction = new Float64Array(256)
  mboRecords = 0
  /** MBO records carrying F_SNAPSHOT. */
  snapshotRecords = 0
  definitions = 0
  symbolMappings = 0
  /** Bytes handed out by `take`, metadata included. */
  bytesOut = 0

  private readonly writer: DbnWriter
  private readonly batch: MboBatch
  private readonly baseHi: number
  private readonly baseLo: number
  private tsHi = 0
  private tsLo = 0
  private recvHi = 0
  private recvLo = 0
  private delta = 0
  private seq = 0

  /** @param baseNs ns since epoch that the market's time offsets are relative to */
  constructor(baseNs: bigint, chunkBytes: number) {
    this.writer = new DbnWriter({ initialCapacity: chunkBytes + (64 << 10) })
    this.batch = allocMboBatch(BATCH_ROWS)
    this.baseHi = Number(baseNs >> 32n)
    this.baseLo = Number(baseNs & 0xffffffffn)
  }

  metadata(m: Metadata): void {
    this.writer.metadata(m)
  }

  /** Writes a non-MBO record (definition, symbol mapping) in stream order. */
  record(r: DbnRecord): void {
    this.flushRows()
    this.writer.record(r)
    if (r._tag === "definition") this.definitions++
    else if (r._tag === "symbolMapping") this.symbolMappings++
  }

  setEvent(tsEvent: number, tsRecv: number, tsInDelta: number, sequence: number): void {
    let lo = this.baseLo + (tsEvent % TWO_32)
    let carry = lo >= TWO_32 ? 1 : 0
    this.tsLo = lo - carry * TWO_32
    this.tsHi = this.baseHi + Math.floor(tsEvent / TWO_32) + carry
    lo = this.baseLo + (tsRecv % TWO_32)
    carry = lo >= TWO_32 ? 1 : 0
    this.recvLo = lo - carry * TWO_32
    this.recvHi = this.baseHi + Math.floor(tsRecv / TWO_32) + carry
    this.delta = tsInDelta
    this.seq = sequence
  }

  mbo(
    instrumentId: number,
    channelId: number,
    orderId: number,
    price: number,
    size: number,
    flags: number,
    action: number,
    side: number
  ): void {
    const b = this.batch
    if (b.length === BATCH_ROWS) this.flushRows()
    const i = b.length++
    b.publisherId[i] = PUBLISHER_ID
    b.instrumentId[i] = instrumentId
    b.tsEventHi[i] = this.tsHi
    b.tsEventLo[i] = this.tsLo
    b.orderIdHi[i] = Math.floor(orderId / TWO_32)
    b.orderIdLo[i] = orderId >>> 0
    if (price !== price) {
      // UNDEF_PRICE = i64::MAX
      b.price[i] = NaN
      b.priceHi[i] = 0x7fffffff
      b.priceLo[i] = 0xffffffff
    } else {
      b.price[i] = price
      b.priceHi[i] = Math.floor(price / TWO_32)
      b.priceLo[i] = price >>> 0
    }
    b.size[i] = size
    b.flags[i] = flags
    b.channelId[i] = channelId
    b.action[i] = action
    b.side[i] = side
    b.tsRecvHi[i] = this.recvHi
    b.tsRecvLo[i] = this.recvLo
    b.tsInDelta[i] = this.delta
    b.sequence[i] = this.seq
    this.byAction[action]!++
    this.mboRecords++
    if ((flags & 0x20) !== 0) this.snapshotRecords++
  }

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.writer.length + this.batch.length * MBO_SIZE
  }

  /** Everything written since the last take, as a fresh array (callers may keep it). */
  take(): Uint8Array {
    this.flushRows()
    const out = this.writer.takeChunk()
    this.bytesOut += out.length
    return out
  }

  private flushRows(): void {
    if (this.batch.length === 0) return
    this.writer.mboRows(this.batch, 0, this.batch.length)
    this.batch.length = 0
  }
}
