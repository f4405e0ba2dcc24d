/**
 * `--trades-out FILE`: every classified trade as one JSON line
 * (`ts_event` ns as a decimal string, `instrument_id`, `price` in decimal points, `size`, `side`, `rule`).
 */
import { u64 } from "../dbn/Batch.js"
import { DIR_NAMES, RULE_NAMES } from "../flow/Direction.js"
import type { TradeBatch } from "../flow/Engine.js"

/** Decimal text of a 1e-9 fixed-point price held exactly in a double (|raw| < 2^53). */
export const formatPrice = (raw: number): string => {
  const neg = raw < 0
  const abs = BigInt(Math.abs(raw))
  const whole = abs / 1_000_000_000n
  const frac = (abs % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "")
  return `${neg ? "-" : ""}${whole}${frac.length > 0 ? "." + frac : ""}`
}

export const toLines = (t: TradeBatch): string => {
  let s = ""
  for (let i = 0; i < t.length; i++) {
    s += `{"ts_event":"${u64(t.tsEventHi[i]!, t.tsEventLo[i]!)}","instrument_id":${t.instrumentId[i]},"price":"${
      formatPrice(t.price[i]!)
    }","size":${t.size[i]},"side":"${DIR_NAMES[t.side[i]!]}","rule":"${RULE_NAMES[t.rule[i]!]}"}\n`
  }
  return s
}
