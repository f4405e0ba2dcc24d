/**
 * `GapFill` through the historical API: the live subscription's schemas (definitions and MBO of `NQ.OPT`) over
 * [gap start, gap end), each query priced and charged to the budget by `Historical.getRange` (refused when it
 * would break the budget), merged in ts_event order, and cut to exactly the records after the gap's cursor.
 */
import { Duration, Effect, Layer, Stream } from "effect"
import type { DecodedChunk } from "../dbn/Batch.js"
import * as GapFill from "../live/GapFill.js"
import { LiveConfig } from "../live/LiveConfig.js"
import * as Cursor from "../source/Cursor.js"
import * as Decode from "../source/Decode.js"
import * as ReplaySource from "../source/ReplaySource.js"
import { Budget } from "../gate/Budget.js"
import { describe, Historical, type HistoricalError, type Query } from "./Historical.js"

const toFillError = (e: HistoricalError | Decode.DbnError): GapFill.GapFillError =>
  e._tag === "DbnError"
    ? new GapFill.GapFillError({ reason: "Decode", detail: e.message })
    : new GapFill.GapFillError({ reason: e.reason === "Budget" ? "Budget" : "Historical", detail: e.message })

export const make = Effect.gen(function*() {
  const historical = yield* Historical
  const live = yield* LiveConfig
  const budget = yield* Budget
  const fill = (gap: GapFill.Gap): Stream.Stream<DecodedChunk, GapFill.GapFillError> => {
    if (gap.to <= gap.from.tsEvent) return Stream.empty
    const longest = Duration.unsafeToNanos(live.fillWithin)
    if (gap.to - gap.from.tsEvent > longest) {
      return Stream.fail(new GapFill.GapFillError({
        reason: "TooLong",
        detail: `the gap spans ${Duration.format(Duration.nanos(gap.to - gap.from.tsEvent))}, ` +
          `more than the ${Duration.format(live.fillWithin)} filled in place (IFD_GAP_FILL_WITHIN_S): left for backfill --gaps`
      }))
    }
    // Definitions before MBO at a tie, as the gateway sends them when both schemas are subscribed.
    const schemas = [...live.schemas].sort((a, b) => (a === "definition" ? -1 : b === "definition" ? 1 : 0))
    const queries = schemas.map((schema): Query => ({
      dataset: live.dataset,
      schema,
      symbols: live.symbols,
      stypeIn: live.stypeIn,
      start: gap.from.tsEvent,
      end: gap.to
    }))
    // Every query of the gap is priced before any is fetched: a fill the budget can not pay for fetches nothing.
    const priced = Effect.gen(function*() {
      let total = 0
      for (const q of queries) total += yield* historical.getCost(q)
      yield* budget.authorize(total, `gap fill ${describe(queries[0]!, live.dataset)} (${queries.length} schemas)`)
    }).pipe(Effect.mapError((e) =>
      e._tag === "BudgetExceeded"
        ? new GapFill.GapFillError({ reason: "Budget", detail: e.message })
        : toFillError(e)
    ))
    const streams = queries.map((q) => Decode.decodeStream(historical.getRange(q)).pipe(Stream.mapError(toFillError)))
    return Stream.unwrap(Effect.as(priced, Stream.suspend(() => {
      const skipper = new Cursor.Skipper(gap.from)
      return ReplaySource.merge(streams).pipe(
        // Metadata belongs to the live stream's own start; a fatal framing error ends the fill as a failure.
        Stream.mapEffect((c) =>
          c.fatal !== undefined
            ? Effect.fail(new GapFill.GapFillError({ reason: "Decode", detail: `${c.fatal.reason} at byte ${c.fatal.offset}: ${c.fatal.detail}` }))
            : Effect.succeed(skipper.apply(c.metadata === undefined ? c : { ...c, metadata: undefined }))
        ),
        Stream.filter((c) => c.mbo.length > 0 || c.others.length > 0)
      )
    })))
  }
  return GapFill.GapFill.of({ fill })
})

/** Needs `Historical`, `Budget` and the live subscription's `LiveConfig`. */
export const layer: Layer.Layer<GapFill.GapFill, never, Historical | Budget | LiveConfig> = Layer.effect(GapFill.GapFill, make)
