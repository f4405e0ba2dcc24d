/**
 * Served data for live tests: MBO records built with the DBN encoder, deterministic from a seed, with long runs
 * of records sharing one ts_event (the hard case for exact resume). Each record is told apart by its order_id
 * (= its index + 1) and sequence (= its index). shared/spec/databento.md §5.1.
 */
import { DbnWriter } from "../dbn/Encoder.js"

export interface MboDataOptions {
  readonly count: number
  readonly seed?: number
  /** Longest run of records sharing one ts_event. Default 300. */
  readonly maxRun?: number
  /** Instrument ids used: 1000 … 1000 + instruments - 1. Default 8. */
  readonly instruments?: number
  /** ts_event of the first record, ns. */
  readonly t0?: bigint
}

const ACTIONS = "AAACCMTF"

/** `count` MBO records back to back (no metadata), ts_event non-decreasing. */
export const mboRecords = (options: MboDataOptions): Uint8Array => {
  let s = (options.seed ?? 1) >>> 0
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
  const maxRun = options.maxRun ?? 300
  const instruments = options.instruments ?? 8
  const w = new DbnWriter({ initialCapacity: options.count * 56 + 64 })
  let ts = options.t0 ?? 1_700_000_000_000_000_000n
  let runLeft = 0
  for (let i = 0; i < options.count; i++) {
    if (runLeft === 0) {
      runLeft = 1 + Math.floor(next() * maxRun)
      ts += BigInt(1 + Math.floor(next() * 1_000_000))
    }
    runLeft--
    w.mbo({
      _tag: "mbo",
      hd: {
        length: 56,
        rtype: 0xa0,
        publisher_id: 1,
        instrument_id: 1000 + Math.floor(next() * instruments),
        ts_event: ts
      },
      order_id: BigInt(i + 1),
      price: BigInt(100 + Math.floor(next() * 400)) * 250_000_000n,
      size: 1 + Math.floor(next() * 50),
      flags: runLeft === 0 ? 0x80 : 0,
      channel_id: 0,
      action: ACTIONS[Math.floor(next() * ACTIONS.length)]!,
      side: next() < 0.5 ? "A" : "B",
      ts_recv: ts + 1000n,
      ts_in_delta: 500,
      sequence: i
    })
  }
  return w.toBytes()
}
