/** Window builders and a scoped temp directory for the storage tests. */
import { NodeFileSystem } from "@effect/platform-node"
import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { PressureWindow } from "../../src/flow/PressureWindow.js"

export const T0 = Date.UTC(2025, 5, 2, 14, 30) // 2025-06-02 14:30 UTC

export const window = (overrides: Partial<PressureWindow> = {}): PressureWindow => ({
  windowStart: T0,
  expiration: "2025-06-06",
  strike: 21500,
  optionType: "C",
  bidVolume: 10,
  askVolume: 30,
  unknownVolume: 2,
  pressureRatio: 3,
  totalTrades: 7,
  avgTradeSize: 6,
  dominantSide: "BUY",
  tradesAggressor: 4,
  tradesQuote: 2,
  tradesTick: 1,
  tradesNone: 0,
  premium: 12_345.5,
  maxTradeSize: 20,
  ...overrides
})

/** n distinct windows: consecutive 5-minute starts × a few strikes, expirations and types. */
export const windows = (n: number, start = T0): Array<PressureWindow> => {
  const out: Array<PressureWindow> = []
  for (let i = 0; i < n; i++) {
    const j = i % 40
    const bid = i % 7
    const ask = (i * 3) % 11
    out.push(window({
      windowStart: start + Math.floor(i / 40) * 300_000,
      strike: 21000 + (j % 10) * 25,
      optionType: Math.floor(j / 10) % 2 === 0 ? "C" : "P",
      expiration: j < 20 ? "2025-06-06" : "2025-06-13",
      bidVolume: bid,
      askVolume: ask,
      pressureRatio: bid === 0 ? null : ask / bid,
      dominantSide: ask > bid ? "BUY" : bid > ask ? "SELL" : "NEUTRAL",
      premium: i * 10.25
    }))
  }
  return out
}

/** A fresh directory removed when the scope closes. */
export const tempDir = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => fs.makeTempDirectoryScoped({ prefix: "ifd-store-" })
).pipe(Effect.provide(NodeFileSystem.layer))
