/**
 * `budget`: what the data budget stands at — the trade date's spending against the cutoff (live bytes and
 * historical purchases), the month's total, and the cost per reported signal of each — from the ledger in SQLite.
 */
import { Console, Effect, Layer } from "effect"
import { Budget, type BudgetState, formatReport, usd } from "../gate/Budget.js"
import { SignalsRepo } from "../store/SignalsRepo.js"
import * as Store from "../store/Store.js"

/** Reported signals of the budget's trade date and month, counted over the same hours as its spending. */
export const signalCounts = (signals: SignalsRepo, state: BudgetState) =>
  Effect.all({
    today: signals.reportedIn(state.tradeDate, state.rolloverMinute),
    month: signals.reportedIn(state.month, state.rolloverMinute)
  })

export const report = Effect.gen(function*() {
  const budget = yield* Budget
  const state = yield* budget.state
  return yield* budget.report(yield* signalCounts(yield* SignalsRepo, state))
})

export const run = (options: { readonly db: string | undefined; readonly json: boolean }) =>
  Effect.gen(function*() {
    const r = yield* report
    if (options.json) return yield* Console.log(JSON.stringify(r, null, 2))
    yield* Console.log(formatReport(r))
    yield* Console.log(
      `  live ${(r.liveBytes / 1e6).toFixed(1)} MB = ${usd(r.liveUsd)}, historical ${usd(r.historicalUsd)}; ` +
        `${usd(r.remainingUsd)} left before the cutoff (${usd(r.limitUsd)} of ${usd(r.budgetUsd)}); ` +
        `resets ${new Date(r.resetsAt).toISOString()}`
    )
  }).pipe(
    Effect.provide(Budget.Default.pipe(
      Layer.provideMerge(options.db === undefined ? Store.layerConfig : Store.layer({ filename: options.db }))
    ))
  )
