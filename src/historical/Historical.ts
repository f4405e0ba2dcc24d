/**
 * Databento's historical HTTP API (shared/spec/databento.md §10) over `HttpClient`: metadata.get_cost,
 * get_record_count and get_billable_size, and timeseries.get_range streamed as zstd DBN bytes (never buffered),
 * priced and checked against the data budget before it is fetched. Basic auth with the key; bounded exponential
 * retries on 429, 408, 5xx and transport failures, none on other 4xx.
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import type { HttpClientError } from "@effect/platform/HttpClientError"
import { NodeHttpClient } from "@effect/platform-node"
import {
  Config,
  ConfigError,
  Context,
  DateTime,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Random,
  Redacted,
  Schema,
  Stream
} from "effect"
import { Budget } from "../gate/Budget.js"

export interface HistoricalSettings {
  /** DATABENTO_API_KEY; sent only as the basic-auth user name. */
  readonly apiKey: Redacted.Redacted<string>
  /** Without a trailing slash, e.g. https://hist.databento.com. */
  readonly baseUrl: string
  /** Dataset of queries that name none. */
  readonly dataset: string
  /** Retries after the first attempt (so at most maxRetries + 1 requests). */
  readonly maxRetries: number
  /** First retry delay; each later one doubles (±20 % jitter) up to `retryMaxDelay`. */
  readonly retryBase: Duration.Duration
  readonly retryMaxDelay: Duration.Duration
  /** Longest wait for a response's headers, and for each piece of a streamed body. */
  readonly timeout: Duration.Duration
  readonly userAgent: string
}

export class HistoricalConfig extends Context.Tag("ifd/historical/HistoricalConfig")<
  HistoricalConfig,
  HistoricalSettings
>() {}

export const defaults = {
  baseUrl: "https://hist.databento.com",
  dataset: "GLBX.MDP3",
  maxRetries: 5,
  retryBase: Duration.seconds(1),
  retryMaxDelay: Duration.seconds(60),
  timeout: Duration.seconds(60),
  userAgent: `ifd-stream/0.1.0 Node/${process.versions.node}`
} satisfies Omit<HistoricalSettings, "apiKey">

const apiKey = Config.option(Config.redacted("DATABENTO_API_KEY")).pipe(
  Config.withDescription("Databento API key; never logged"),
  Config.mapOrFail((key) =>
    Option.isNone(key) || Redacted.value(key.value).trim().length === 0
      ? Either.left(ConfigError.MissingData(
        ["DATABENTO_API_KEY"],
        "DATABENTO_API_KEY is not set: the historical API needs a Databento API key"
      ))
      : Either.right(key.value)
  )
)

const seconds = (name: string, fallback: Duration.Duration, description: string) =>
  Config.number(name).pipe(
    Config.validate({ message: `${name} must be a number of seconds > 0`, validation: (s) => s > 0 }),
    Config.map((s) => Duration.millis(s * 1000)),
    Config.withDefault(fallback),
    Config.withDescription(description)
  )

/** Reads DATABENTO_API_KEY, IFD_HISTORICAL_URL, IFD_DATASET, IFD_HISTORICAL_RETRIES, … */
export const config: Config.Config<HistoricalSettings> = Config.all({
  apiKey,
  baseUrl: Config.string("IFD_HISTORICAL_URL").pipe(
    Config.validate({
      message: "IFD_HISTORICAL_URL must be an http(s) URL",
      validation: (u) => /^https?:\/\/\S+$/.test(u)
    }),
    Config.map((u) => u.replace(/\/+$/, "")),
    Config.withDefault(defaults.baseUrl),
    Config.withDescription("Base URL of Databento's historical API")
  ),
  dataset: Config.string("IFD_DATASET").pipe(
    Config.withDefault(defaults.dataset),
    Config.withDescription("Databento dataset")
  ),
  maxRetries: Config.integer("IFD_HISTORICAL_RETRIES").pipe(
    Config.validate({ message: "IFD_HISTORICAL_RETRIES must be 0..20", validation: (n) => n >= 0 && n <= 20 }),
    Config.withDefault(defaults.maxRetries),
    Config.withDescription("Retries of a historical request on 429, 408, 5xx or a transport failure")
  ),
  retryBase: seconds("IFD_HISTORICAL_RETRY_BASE_S", defaults.retryBase, "First retry delay (doubles each retry)"),
  retryMaxDelay: seconds("IFD_HISTORICAL_RETRY_MAX_S", defaults.retryMaxDelay, "Longest delay between retries"),
  timeout: seconds("IFD_HISTORICAL_TIMEOUT_S", defaults.timeout, "Longest wait for a response or a piece of its body")
}).pipe(Config.map((c): HistoricalSettings => ({ ...c, userAgent: defaults.userAgent })))

export const layerSettings = (
  overrides: Partial<HistoricalSettings> & Pick<HistoricalSettings, "apiKey">
): Layer.Layer<HistoricalConfig> => Layer.succeed(HistoricalConfig, { ...defaults, ...overrides })

export const layerSettingsConfig: Layer.Layer<HistoricalConfig, ConfigError.ConfigError> = Layer.effect(
  HistoricalConfig,
  config
)

export class HistoricalError extends Schema.TaggedError<HistoricalError>()("HistoricalError", {
  /**
   * Client: a 4xx other than 429 (bad query, auth, entitlement); Server: 5xx; RateLimited: 429; Decode: a reply
   * that is not what the API documents; Transport: no reply (connection, timeout, body cut off); Budget: the
   * request would pass the day's data budget; Input: rejected before sending.
   */
  reason: Schema.Literal("Client", "Server", "RateLimited", "Decode", "Transport", "Budget", "Input"),
  /** e.g. "timeseries.get_range". */
  endpoint: Schema.String,
  status: Schema.optional(Schema.Number),
  /** The API's own message when it sent one; otherwise our words. Never the key. */
  detail: Schema.String,
  /** The `request-id` response header, for Databento support. */
  requestId: Schema.optional(Schema.String),
  /** Requests made when retries gave up. */
  attempts: Schema.optional(Schema.Number),
  /** The server's Retry-After, in ms. */
  retryAfterMs: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const status = this.status === undefined ? "" : ` ${this.status}`
    const attempts = this.attempts === undefined ? "" : ` after ${this.attempts} attempts`
    const id = this.requestId === undefined ? "" : ` (request-id ${this.requestId})`
    return `${this.endpoint}: ${this.reason}${status}${attempts}: ${this.detail}${id}`
  }

  get retryable(): boolean {
    return this.reason === "RateLimited" || this.reason === "Server" || this.reason === "Transport" ||
      this.status === 408
  }
}

/** A time bound: ISO-8601 text, UNIX nanoseconds, or a DateTime. */
export type Time = string | bigint | DateTime.DateTime

export interface Query {
  /** Default: the configured dataset. */
  readonly dataset?: string
  /** e.g. "mbo", "definition", "trades". */
  readonly schema: string
  /** Up to 2,000; omitted = ALL_SYMBOLS. */
  readonly symbols?: ReadonlyArray<string>
  /** Default "raw_symbol"; "parent" for NQ.OPT. */
  readonly stypeIn?: string
  /** Default "instrument_id". */
  readonly stypeOut?: string
  /** Inclusive. */
  readonly start: Time
  /** Exclusive; default: start forward-filled to its resolution (API rule). */
  readonly end?: Time
  readonly limit?: number
}

const MAX_SYMBOLS = 2_000
const ERROR_BODY_CHARS = 500

const timeText = (t: Time): string =>
  typeof t === "string" ? t : typeof t === "bigint" ? t.toString() : DateTime.formatIso(DateTime.toUtc(t))

/** A short, safe description of a query for logs, errors and the ledger. */
export const describe = (q: Query, dataset: string): string => {
  const symbols = q.symbols === undefined || q.symbols.length === 0
    ? "ALL_SYMBOLS"
    : q.symbols.length <= 3
    ? q.symbols.join(",")
    : `${q.symbols.slice(0, 3).join(",")} +${q.symbols.length - 3}`
  const end = q.end === undefined ? "" : `..${timeText(q.end)}`
  return `${q.dataset ?? dataset} ${q.schema} ${symbols} ${timeText(q.start)}${end}`
}

/** The API's message from `{"detail": "…"}` or `{"detail": {"message": "…"}}`, else the body's text. */
export const apiMessage = (body: string): string | undefined => {
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json === "object" && json !== null && "detail" in json) {
      const detail = (json as { detail: unknown }).detail
      if (typeof detail === "string") return detail
      if (typeof detail === "object" && detail !== null) {
        const message = (detail as { message?: unknown }).message
        if (typeof message === "string") return message
      }
      return JSON.stringify(detail)
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = body.trim()
  return text.length === 0 ? undefined : text
}

const withAttempts = (e: HistoricalError, attempts: number): HistoricalError =>
  new HistoricalError({
    reason: e.reason,
    endpoint: e.endpoint,
    detail: e.detail,
    attempts,
    ...(e.status === undefined ? {} : { status: e.status }),
    ...(e.requestId === undefined ? {} : { requestId: e.requestId })
  })

const reasonOf = (status: number): HistoricalError["reason"] =>
  status === 429 ? "RateLimited" : status >= 500 ? "Server" : "Client"

const retryAfterMs = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined
  return Number(value) * 1000
}

export class Historical extends Effect.Service<Historical>()("ifd/historical/Historical", {
  effect: Effect.gen(function*() {
    const settings = yield* HistoricalConfig
    const client = yield* HttpClient.HttpClient
    const budget = yield* Budget
    // Pricing, the budget check, the request and the charge happen under one permit, so two ranges fetched at
    // once cannot both pass a check that only one of them fits; streaming the bodies runs in parallel.
    const pricing = yield* Effect.makeSemaphore(1)

    // Our own text may quote a server's error body or a driver message: never let the key through either way.
    const key = Redacted.value(settings.apiKey)
    const keyB64 = Buffer.from(`${key}:`).toString("base64")
    const scrub = (text: string): string => {
      let out = text.length > ERROR_BODY_CHARS ? `${text.slice(0, ERROR_BODY_CHARS)}…` : text
      if (key.length > 0) out = out.split(key).join("[redacted]")
      return out.split(keyB64).join("[redacted]")
    }

    const transport = (endpoint: string) => (e: HttpClientError): HistoricalError =>
      new HistoricalError({
        reason: "Transport",
        endpoint,
        detail: scrub(e.description === undefined ? `${e._tag} ${e.reason}` : `${e.reason}: ${e.description}`)
      })

    const fields = (q: Query, extra: ReadonlyArray<readonly [string, string]>) =>
      Effect.gen(function*() {
        const endpointInput = (detail: string) => new HistoricalError({ reason: "Input", endpoint: "query", detail })
        if (q.symbols !== undefined && q.symbols.length > MAX_SYMBOLS) {
          return yield* endpointInput(`${q.symbols.length} symbols; the API takes at most ${MAX_SYMBOLS}`)
        }
        if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit > 0)) {
          return yield* endpointInput(`limit must be a positive integer, got ${q.limit}`)
        }
        const out: Array<readonly [string, string]> = [
          ["dataset", q.dataset ?? settings.dataset],
          ["start", timeText(q.start)],
          ["symbols", q.symbols === undefined || q.symbols.length === 0 ? "ALL_SYMBOLS" : q.symbols.join(",")],
          ["schema", q.schema],
          ["stype_in", q.stypeIn ?? "raw_symbol"],
          ["stype_out", q.stypeOut ?? "instrument_id"]
        ]
        if (q.end !== undefined) out.push(["end", timeText(q.end)])
        if (q.limit !== undefined) out.push(["limit", String(q.limit)])
        return [...out, ...extra]
      })

    const request = (endpoint: string, form: ReadonlyArray<readonly [string, string]>) =>
      HttpClientRequest.post(`${settings.baseUrl}/v0/${endpoint}`).pipe(
        HttpClientRequest.basicAuth(settings.apiKey, ""),
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeader("user-agent", settings.userAgent),
        HttpClientRequest.bodyUrlParams(form)
      )

    const statusError = (endpoint: string, response: HttpClientResponse.HttpClientResponse) =>
      response.text.pipe(
        Effect.timeout(settings.timeout),
        Effect.orElseSucceed(() => ""),
        Effect.map((body) => {
          const requestId = response.headers["request-id"]
          const after = retryAfterMs(response.headers["retry-after"])
          return new HistoricalError({
            reason: reasonOf(response.status),
            endpoint,
            status: response.status,
            detail: scrub(apiMessage(body) ?? `HTTP ${response.status}`),
            ...(requestId === undefined ? {} : { requestId }),
            ...(after === undefined ? {} : { retryAfterMs: after })
          })
        })
      )

    const logWarnings = (endpoint: string, response: HttpClientResponse.HttpClientResponse) => {
      const raw = response.headers["x-warning"]
      if (raw === undefined) return Effect.void
      let warnings: ReadonlyArray<unknown>
      try {
        const parsed: unknown = JSON.parse(raw)
        warnings = Array.isArray(parsed) ? parsed : [raw]
      } catch {
        warnings = [raw]
      }
      return Effect.forEach(warnings, (w) =>
        Effect.logWarning("Databento warning").pipe(Effect.annotateLogs({ endpoint, warning: scrub(String(w)) })))
    }

    /** One attempt: the response once its headers arrived with a 2xx status. */
    const send = (endpoint: string, form: ReadonlyArray<readonly [string, string]>) =>
      client.execute(request(endpoint, form)).pipe(
        Effect.mapError(transport(endpoint)),
        Effect.timeoutFail({
          duration: settings.timeout,
          onTimeout: () =>
            new HistoricalError({
              reason: "Transport",
              endpoint,
              detail: `no response within ${Duration.format(settings.timeout)}`
            })
        }),
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300
            ? Effect.as(logWarnings(endpoint, response), response)
            : Effect.flatMap(statusError(endpoint, response), Effect.fail)
        )
      )

    /** Runs `attempt` again after growing, jittered delays (or the server's Retry-After) while retryable. */
    const withRetries = <A>(endpoint: string, attempt: Effect.Effect<A, HistoricalError>) =>
      Effect.gen(function*() {
        const base = Duration.toMillis(settings.retryBase)
        const max = Duration.toMillis(settings.retryMaxDelay)
        for (let retry = 0;; retry++) {
          const result = yield* Effect.either(attempt)
          if (Either.isRight(result)) return result.right
          const e = result.left
          if (!e.retryable) return yield* e
          if (retry >= settings.maxRetries) {
            return yield* (retry === 0 ? e : withAttempts(e, retry + 1))
          }
          const jitter = 0.8 + 0.4 * (yield* Random.next)
          const backoff = Math.min(max, base * 2 ** retry) * jitter
          const delay = Math.round(Math.min(max, Math.max(backoff, e.retryAfterMs ?? 0)))
          yield* Effect.logWarning("Historical request failed: retrying").pipe(
            Effect.annotateLogs({
              endpoint,
              error: e.message,
              retry: retry + 1,
              of: settings.maxRetries,
              delay: Duration.format(Duration.millis(delay))
            })
          )
          yield* Effect.sleep(Duration.millis(delay))
        }
      })

    const metadata = (endpoint: string, integer: boolean) =>
      Effect.fn(`Historical.${endpoint}`)(function*(q: Query) {
        const form = yield* fields(q, [])
        const value = yield* withRetries(
          endpoint,
          send(endpoint, form).pipe(
            Effect.flatMap((response) => Effect.mapError(response.text, transport(endpoint))),
            Effect.timeoutFail({
              duration: settings.timeout,
              onTimeout: () => new HistoricalError({ reason: "Transport", endpoint, detail: "reply body timed out" })
            })
          )
        ).pipe(
          Effect.flatMap((body) => {
            const n = Number(body.trim())
            return body.trim().length > 0 && Number.isFinite(n) && n >= 0 && (!integer || Number.isInteger(n))
              ? Effect.succeed(n)
              : Effect.fail(
                new HistoricalError({
                  reason: "Decode",
                  endpoint,
                  detail: `expected a bare JSON ${integer ? "integer" : "number"}, got ${
                    JSON.stringify(scrub(body.slice(0, 80)))
                  }`
                })
              )
          })
        )
        return value
      })

    /** Cost in USD of a query (`metadata.get_cost`). */
    const getCost: (q: Query) => Effect.Effect<number, HistoricalError> = metadata("metadata.get_cost", false)
    /** Records a query would return (`metadata.get_record_count`). */
    const getRecordCount: (q: Query) => Effect.Effect<number, HistoricalError> = metadata(
      "metadata.get_record_count",
      true
    )
    /** Uncompressed DBN bytes Databento would bill (`metadata.get_billable_size`). */
    const getBillableSize: (q: Query) => Effect.Effect<number, HistoricalError> = metadata(
      "metadata.get_billable_size",
      true
    )

    const budgetError = (e: { readonly message: string }) =>
      new HistoricalError({ reason: "Budget", endpoint: "timeseries.get_range", detail: e.message })

    /**
     * The zstd-compressed DBN body of `timeseries.get_range`, as it arrives. The query is priced first
     * (`metadata.get_cost`) and refused with reason Budget when it would pass the day's limit; its cost is charged
     * once the response starts. Retries cover getting the response, not a body cut off midway (that fails the
     * stream with Transport: partial DBN cannot be resumed).
     */
    const getRange = (q: Query): Stream.Stream<Uint8Array, HistoricalError> =>
      Stream.unwrap(Effect.gen(function*() {
        const endpoint = "timeseries.get_range"
        const form = yield* fields(q, [["encoding", "dbn"], ["compression", "zstd"]])
        const what = `${endpoint} ${describe(q, settings.dataset)}`
        const response = yield* pricing.withPermits(1)(Effect.gen(function*() {
          const cost = yield* getCost(q)
          yield* budget.authorize(cost, what).pipe(Effect.mapError(budgetError))
          const response = yield* withRetries(endpoint, send(endpoint, form))
          yield* budget.charge(cost, what)
          yield* Effect.logInfo("Historical range").pipe(
            Effect.annotateLogs({ query: what, cost: `$${cost.toFixed(4)}` })
          )
          return response
        }))
        return response.stream.pipe(
          Stream.mapError(transport(endpoint)),
          Stream.timeoutFail(
            () =>
              new HistoricalError({
                reason: "Transport",
                endpoint,
                detail: `body stalled for ${Duration.format(settings.timeout)}`
              }),
            settings.timeout
          )
        )
      }).pipe(Effect.withSpan("Historical.getRange")))

    return { settings, getCost, getRecordCount, getBillableSize, getRange } as const
  }),
  dependencies: [layerSettingsConfig, NodeHttpClient.layerUndici]
}) {}

/** The client with explicit settings over a given `HttpClient`; needs `Budget` (tests, embedding). */
export const layer = (overrides: Partial<HistoricalSettings> & Pick<HistoricalSettings, "apiKey">) =>
  Historical.DefaultWithoutDependencies.pipe(Layer.provide(layerSettings(overrides)))
