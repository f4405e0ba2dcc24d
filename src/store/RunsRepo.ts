/**
 * One row per pipeline run in `runs`: opened when the run starts, closed with its status, counts and a JSON summary.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option } from "effect"
import { mapSql, StoreError } from "./StoreError.js"

export type RunStatus = "running" | "done" | "failed" | "interrupted"

export type RunCounts = {
  readonly records: number
  readonly trades: number
  readonly windows: number
  readonly flagged: number
}

export interface Run extends RunCounts {
  readonly id: number
  readonly source: string
  /** ms since epoch. */
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly status: RunStatus
  /** The parsed JSON summary; bigints were stored as decimal strings. */
  readonly summary: unknown
}

type RunRow = {
  readonly id: number
  readonly source: string
  readonly started_at: number
  readonly finished_at: number | null
  readonly records: number
  readonly trades: number
  readonly windows: number
  readonly flagged: number
  readonly status: RunStatus
  readonly summary: string | null
}

const COUNT_KEYS = ["records", "trades", "windows", "flagged"] as const

/**
 * The counts of a summary: each of records/trades/windows/flagged is taken from the summary's own numeric field,
 * else from `summary.stats`, else 0.
 */
export const countsOf = (summary: unknown): RunCounts => {
  const top = isObject(summary) ? summary : {}
  const stats = isObject(top.stats) ? top.stats : {}
  const pick = (key: (typeof COUNT_KEYS)[number]) =>
    typeof top[key] === "number" ? top[key] : typeof stats[key] === "number" ? stats[key] : 0
  return { records: pick("records"), trades: pick("trades"), windows: pick("windows"), flagged: pick("flagged") }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

// JSON has no u64: a bigint (a ts_event cursor) is kept exactly as its decimal string.
const toJson = (summary: unknown): string | undefined => {
  try {
    return JSON.stringify(summary, (_key, value) => typeof value === "bigint" ? value.toString() : value) ?? "null"
  } catch {
    return undefined
  }
}

export class RunsRepo extends Effect.Service<RunsRepo>()("ifd/store/RunsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Opens a run for `source` (status "running") and returns its id. */
    const start = Effect.fn("RunsRepo.start")(
      function*(source: string) {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ id: number }>`INSERT INTO runs (source, started_at, status)
          VALUES (${source}, ${now}, 'running') RETURNING id`
        return rows[0]!.id
      },
      mapSql("RunsRepo.start")
    )

    /** Closes run `id`. Counts default to those found in `summary` (see `countsOf`). */
    const finish = Effect.fn("RunsRepo.finish")(
      function*(id: number, status: Exclude<RunStatus, "running">, summary: unknown, counts?: Partial<RunCounts>) {
        const json = toJson(summary)
        if (json === undefined) {
          return yield* new StoreError({
            reason: "Input",
            operation: "RunsRepo.finish",
            detail: "summary is not JSON-serialisable"
          })
        }
        const c = { ...countsOf(summary), ...counts }
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ id: number }>`UPDATE runs SET
            finished_at = ${now}, status = ${status}, records = ${c.records}, trades = ${c.trades},
            windows = ${c.windows}, flagged = ${c.flagged}, summary = ${json}
          WHERE id = ${id} RETURNING id`
        if (rows.length === 0) {
          return yield* new StoreError({ reason: "NotFound", operation: "RunsRepo.finish", detail: `no run ${id}` })
        }
      },
      mapSql("RunsRepo.finish")
    )

    const get = Effect.fn("RunsRepo.get")(
      function*(id: number) {
        const rows = yield* sql<RunRow>`SELECT id, source, started_at, finished_at, records, trades, windows, flagged,
          status, summary FROM runs WHERE id = ${id}`
        return Option.map(Option.fromNullable(rows[0]), (r): Run => ({
          id: r.id,
          source: r.source,
          startedAt: r.started_at,
          finishedAt: r.finished_at,
          records: r.records,
          trades: r.trades,
          windows: r.windows,
          flagged: r.flagged,
          status: r.status,
          summary: r.summary === null ? null : JSON.parse(r.summary)
        }))
      },
      mapSql("RunsRepo.get")
    )

    return { start, finish, get } as const
  })
}) {}
