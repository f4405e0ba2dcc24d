/** A reported signal and a buy-only window, for the dashboard's tests. */
import type { PressureWindow } from "../../src/flow/PressureWindow.js"
import type { WindowSignal } from "../../src/flow/Signals.js"

export const signal = (over: Partial<WindowSignal> & Pick<WindowSignal, "windowStart" | "expiration" | "strike">): WindowSignal => ({
  optionType: "C",
  day: "2026-11-18",
  underlying: 21_512.5,
  underlyingMethod: "parity",
  otm: 0.5,
  key: "C|+1|10:00|10d+",
  active: true,
  buyVolume: 400,
  sellVolume: 5,
  unknownVolume: 0,
  trades: 12,
  avgSize: 33,
  logRatio: Math.log(401 / 6),
  callPutPremiumRatio: 1.2,
  mmBalance: 0.01,
  straddle: 0,
  sweeps: 3,
  sweepVolume: 120,
  sweepNet: 120,
  largePrints: 2,
  largeVolume: 200,
  largeNet: 200,
  buyPremium: 100_000,
  sellPremium: 2_000,
  baselineN: 40,
  lowSample: false,
  zVolume: 6,
  zRatio: 4,
  zTrades: 3,
  zSize: 2,
  direction: "BUY",
  bias: "BULLISH",
  score: 10,
  confidence: 0.91,
  tier: "critical",
  reported: true,
  ...over
})

/** A window with buys only: its pressure ratio is null (no bid volume). */
export const buyOnlyWindow = (windowStart: number, expiration: string, strike: number): PressureWindow => ({
  windowStart,
  expiration,
  strike,
  optionType: "P",
  bidVolume: 0,
  askVolume: 250,
  unknownVolume: 3,
  pressureRatio: null,
  totalTrades: 9,
  avgTradeSize: 253 / 9,
  dominantSide: "BUY",
  tradesAggressor: 9,
  tradesQuote: 0,
  tradesTick: 0,
  tradesNone: 0,
  premium: 125_000,
  maxTradeSize: 80
})
