/**
 * Simulated sessions on disk: the DBN file written chunk by chunk (memory stays bounded), the truth as JSON
 * (ns as decimal strings) and the trade tape as JSON lines shaped like `--trades-out` plus the truth fields.
 */
import * as fs from "node:fs"
import { ZstdCompressor } from "../dbn/Zstd.js"
import type { PressureWindow } from "../flow/PressureWindow.js"
import { type SimParams, writeSession } from "./Simulator.js"
import { DIR_BUY, type EpisodeTruth, RULE_AGGRESSOR, type Truth } from "./Truth.js"

export interface SessionFileOptions {
  /** Also write the truth (windows, episodes, totals, counts) as JSON here. */
  readonly truthPath?: string
  /** Also write every trade with its true direction as JSON lines here. */
  readonly tradesPath?: string
}

/** The truth as read back from `writeTruthFile` (no trade tape). */
export interface TruthFile {
  readonly windows: ReadonlyArray<PressureWindow>
  readonly episodes: ReadonlyArray<EpisodeTruth>
  readonly totals: Truth["totals"]
  readonly counts: Truth["counts"]
}

/**
 * Generates a session straight into `path` and returns its truth. A path ending in `.zst` gets the file
 * zstd-compressed as Databento delivers history (`.dbn.zst`: one frame, level 3, checksum on).
 */
export const writeSessionFile = (
  path: string,
  params: Partial<SimParams> = {},
  options: SessionFileOptions = {}
): Truth => {
  const fd = fs.openSync(path, "w")
  const zst = path.endsWith(".zst") ? new ZstdCompressor() : undefined
  let truth: Truth
  try {
    truth = writeSession(params, (chunk) => {
      if (zst === undefined) fs.writeSync(fd, chunk)
      else for (const c of zst.push(chunk)) fs.writeSync(fd, c)
    })
    if (zst !== undefined) for (const c of zst.finish()) fs.writeSync(fd, c)
  } finally {
    fs.closeSync(fd)
  }
  if (options.truthPath !== undefined) writeTruthFile(options.truthPath, truth)
  if (options.tradesPath !== undefined) writeTradesFile(options.tradesPath, truth)
  return truth
}

const ns = (v: bigint | undefined): string | null => (v === undefined ? null : v.toString())

export const writeTruthFile = (path: string, truth: Truth): void => {
  const json = {
    totals: truth.totals,
    counts: truth.counts,
    episodes: truth.episodes.map((e) => ({
      ...e,
      startNs: ns(e.startNs),
      endNs: ns(e.endNs),
      firstTradeNs: ns(e.firstTradeNs),
      lastTradeNs: ns(e.lastTradeNs)
    })),
    windows: truth.windows
  }
  fs.writeFileSync(path, JSON.stringify(json))
}

export const readTruthFile = (path: string): TruthFile => {
  const json = JSON.parse(fs.readFileSync(path, "utf8")) as {
    totals: Truth["totals"]
    counts: Truth["counts"]
    windows: Array<PressureWindow>
    episodes: Array<
      Omit<EpisodeTruth, "startNs" | "endNs" | "firstTradeNs" | "lastTradeNs"> & Record<string, string | null>
    >
  }
  return {
    totals: json.totals,
    counts: json.counts,
    windows: json.windows,
    episodes: json.episodes.map((e) => ({
      ...e,
      startNs: BigInt(e["startNs"]!),
      endNs: BigInt(e["endNs"]!),
      firstTradeNs: e["firstTradeNs"] === null ? undefined : BigInt(e["firstTradeNs"]!),
      lastTradeNs: e["lastTradeNs"] === null ? undefined : BigInt(e["lastTradeNs"]!)
    })) as Array<EpisodeTruth>
  }
}

/** Decimal text of a 1e-9 fixed-point price held exactly in a double. */
const formatPrice = (raw: number): string => {
  const whole = Math.floor(raw / 1e9)
  const frac = String(raw - whole * 1e9).padStart(9, "0").replace(/0+$/, "")
  return frac.length > 0 ? `${whole}.${frac}` : String(whole)
}

/**
 * One JSON line per trade: `ts_event` (ns, string), `instrument_id`, `price` (decimal points, string), `size`,
 * `side` (true initiator, BUY/SELL), `rule` (the rule the pipeline should decide it with), `record_side` (the T
 * record's side byte), `episode` (-1 for background flow) and `sequence`.
 */
export const writeTradesFile = (path: string, truth: Truth): void => {
  const fd = fs.openSync(path, "w")
  try {
    const tape = truth.trades
    let buf = ""
    for (let i = 0; i < tape.length; i++) {
      const ts = tape.baseNs + BigInt(tape.tsOffset[i]!)
      const side = tape.direction[i] === DIR_BUY ? "BUY" : "SELL"
      const rule = tape.rule[i] === RULE_AGGRESSOR ? "aggressor" : "quote"
      const recordSide = String.fromCharCode(tape.recordSide[i]!)
      buf += `{"ts_event":"${ts}","instrument_id":${tape.instrumentId[i]},"price":"${formatPrice(tape.price[i]!)}",` +
        `"size":${tape.size[i]},"side":"${side}","rule":"${rule}","record_side":"${recordSide}",` +
        `"episode":${tape.episode[i]},"sequence":${tape.sequence[i]}}\n`
      if (buf.length > 1 << 20) {
        fs.writeSync(fd, buf)
        buf = ""
      }
    }
    if (buf.length > 0) fs.writeSync(fd, buf)
  } finally {
    fs.closeSync(fd)
  }
}
