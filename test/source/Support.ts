/** Hand-built decoded chunks for source tests (no decoder needed). */
import { allocMboBatch, chunkOfRows, type DecodedChunk } from "../../src/dbn/Batch.js"
import type { DbnRecord, SystemMsg } from "../../src/dbn/Records.js"

/** A chunk of MBO rows with the given ts_event values (ns) and order ids = `ids` (default 1, 2, …). */
export const chunkOf = (ts: ReadonlyArray<bigint>, ids?: ReadonlyArray<number>, others: Array<[number, DbnRecord]> = []): DecodedChunk => {
  const mbo = allocMboBatch(ts.length)
  ts.forEach((t, i) => {
    mbo.tsEventHi[i] = Number(t >> 32n)
    mbo.tsEventLo[i] = Number(t & 0xffffffffn)
    mbo.orderIdLo[i] = ids?.[i] ?? i + 1
    mbo.action[i] = 0x41
    mbo.side[i] = 0x42
  })
  mbo.length = ts.length
  return chunkOfRows(mbo, others.map(([, r]) => r), others.map(([at]) => at))
}

export const system = (ts: bigint, msg = "Heartbeat"): SystemMsg => ({
  _tag: "system",
  hd: { length: 320, rtype: 0x17, publisher_id: 0, instrument_id: 0, ts_event: ts },
  msg,
  code: msg === "Heartbeat" ? 0 : 255,
  isHeartbeat: msg === "Heartbeat"
})

/** Order ids of a chunk's MBO rows, in order. */
export const idsOf = (c: DecodedChunk): Array<number> => Array.from(c.mbo.orderIdLo.subarray(0, c.mbo.length))

/** ts_event of a chunk's MBO rows, in order. */
export const tsOf = (c: DecodedChunk): Array<bigint> =>
  Array.from({ length: c.mbo.length }, (_, i) => (BigInt(c.mbo.tsEventHi[i]!) << 32n) | BigInt(c.mbo.tsEventLo[i]!))
