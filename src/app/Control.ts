/**
 * The control interface: a loopback HTTP server over `StreamStatus` with health, status JSON, Prometheus metrics,
 * recent signals (JSON or server-sent events) and token-protected pause/resume/stop; plus the client the
 * `status` command uses. Issue 6 (control interface). Also the dashboard (issue 7): the page at `/`, its JSON reads
 * from SQLite under `/api/` and its event stream at `/events`.
 */
import { HttpClient, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Config, Context, Duration, Effect, Layer, Option, PubSub, Redacted, Schema, type Scope, Stream } from "effect"
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as Page from "../dashboard/Page.js"
import * as DashboardRepo from "../store/DashboardRepo.js"
import type { StoreError } from "../store/StoreError.js"
import { type StatusSnapshot, StreamStatus } from "./Status.js"

export interface ControlSettings {
  readonly host: string
  /** 0 picks a free port (tests). */
  readonly port: number
  /** Bearer token for the state-changing routes; none disables them (403). */
  readonly token: Option.Option<Redacted.Redacted>
  /** Interval of the SSE comment heartbeat. */
  readonly heartbeat: Duration.Duration
}

export class ControlConfig extends Context.Tag("ifd/app/ControlConfig")<ControlConfig, ControlSettings>() {}

export const defaults: ControlSettings = {
  host: "127.0.0.1",
  port: 8787,
  token: Option.none(),
  heartbeat: Duration.seconds(15)
}

/** Reads IFD_CONTROL_HOST, IFD_CONTROL_PORT and IFD_CONTROL_TOKEN. */
export const config: Config.Config<ControlSettings> = Config.all({
  host: Config.string("IFD_CONTROL_HOST").pipe(
    Config.withDefault(defaults.host),
    Config.withDescription("Address the control interface binds to (loopback by default)")
  ),
  // Config.port refuses 0, which tests and side-by-side instances use to take any free port.
  port: Config.integer("IFD_CONTROL_PORT").pipe(
    Config.validate({ message: "IFD_CONTROL_PORT must be 0..65535", validation: (n) => n >= 0 && n <= 65535 }),
    Config.withDefault(defaults.port),
    Config.withDescription("Port of the control interface (0: any free port)")
  ),
  token: Config.option(Config.redacted("IFD_CONTROL_TOKEN")).pipe(
    Config.map(Option.filter((t) => Redacted.value(t).length > 0)),
    Config.withDescription("Bearer token for POST /control/*; unset disables those routes")
  ),
  heartbeat: Config.succeed(defaults.heartbeat)
})

export const layerSettings = (overrides: Partial<ControlSettings> = {}): Layer.Layer<ControlConfig> =>
  Layer.succeed(ControlConfig, { ...defaults, ...overrides })

export const layerSettingsConfig = Layer.effect(ControlConfig, config)

export class ControlError extends Schema.TaggedError<ControlError>()("ControlError", {
  reason: Schema.Literal("Unreachable", "BadResponse"),
  detail: Schema.String
}) {
  override get message() {
    return `${this.reason}: ${this.detail}`
  }
}

const sha256 = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest()

/** Constant-time comparison of an `Authorization` header with the token (hashed first, so lengths match). */
export const authorized = (header: string | undefined, token: Redacted.Redacted): boolean => {
  if (header === undefined) return false
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  const given = m === null ? "" : m[1]!
  return crypto.timingSafeEqual(sha256(given), sha256(Redacted.value(token))) && given.length > 0
}

// ---- Prometheus text exposition format 0.0.4 ----

type Sample = readonly [labels: string, value: number]

const metric = (name: string, type: "counter" | "gauge", help: string, samples: ReadonlyArray<Sample>): string => {
  let out = `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`
  for (const [labels, value] of samples) {
    const v = Number.isNaN(value) ? "NaN" : value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value)
    out += `${name}${labels} ${v}\n`
  }
  return out
}

const one = (value: number | null | undefined): ReadonlyArray<Sample> =>
  value === null || value === undefined ? [] : [["", value]]

const num = (u: unknown): number | undefined => (typeof u === "number" ? u : undefined)

/** The snapshot as Prometheus text; metrics of absent parts (live in replay, budget, market) have no samples. */
export const metricsOf = (s: StatusSnapshot): string => {
  const p = s.pipeline
  const rules = ["aggressor", "quote", "tick", "none"] as const
  const lagMs = s.live === null ? undefined : num(s.live["lagMs"])
  return [
    metric("ifd_records_total", "counter", "Records pulled from the source.", one(p.records)),
    metric(
      "ifd_trades_total",
      "counter",
      "Trades classified, by the rule that decided the aggressor side.",
      rules.map((r) => [`{rule="${r}"}`, p.tradesByRule[r]] as const)
    ),
    metric("ifd_windows_stored_total", "counter", "Closed 5-minute windows stored.", one(p.windowsStored)),
    metric("ifd_signals_total", "counter", "Signals reported.", one(p.signalsReported)),
    metric("ifd_records_per_second", "gauge", "Records per second over the last interval.", one(p.recordsPerSecond)),
    metric(
      "ifd_last_event_timestamp_seconds",
      "gauge",
      "ts_event of the last record, seconds since epoch.",
      one(p.lastTsEvent === null ? null : Number(BigInt(p.lastTsEvent) / 1_000_000n) / 1000)
    ),
    metric("ifd_open_windows", "gauge", "Windows open in the engine.", one(p.openWindows)),
    metric("ifd_paused", "gauge", "1 while the stream is paused from the control interface.", one(s.paused ? 1 : 0)),
    metric("ifd_uptime_seconds", "gauge", "Seconds since the status service started.", one(s.uptimeSeconds)),
    metric("ifd_connected", "gauge", "1 while the live gateway is subscribed or streaming.", one(s.live === null ? null : s.live.connected ? 1 : 0)),
    metric("ifd_lag_seconds", "gauge", "Wall clock minus the last live ts_event, seconds.", one(lagMs === undefined ? null : lagMs / 1000)),
    metric("ifd_reconnects_total", "counter", "Live reconnect attempts.", one(s.live === null ? null : num(s.live["reconnects"]))),
    metric("ifd_heartbeats_total", "counter", "Live gateway heartbeats.", one(s.live === null ? null : num(s.live["heartbeats"]))),
    metric("ifd_live_buffer_bytes", "gauge", "Bytes received and not yet consumed.", one(s.live === null ? null : num(s.live["bufferBytes"]))),
    metric(
      "ifd_pending_gaps",
      "gauge",
      "Gaps waiting for the historical fallback.",
      one(s.live === null ? null : Array.isArray(s.live["pendingGaps"]) ? s.live["pendingGaps"].length : null)
    ),
    metric("ifd_gaps_recovered_total", "counter", "Gaps filled from the historical API.", one(s.live === null ? null : num(s.live["gapsRecovered"]))),
    metric(
      "ifd_gap_records_recovered_total",
      "counter",
      "Records delivered by historical gap fills.",
      one(s.live === null ? null : num(s.live["gapRecordsRecovered"]))
    ),
    metric("ifd_gap_fill_failures_total", "counter", "Historical gap fills that failed.", one(s.live === null ? null : num(s.live["gapFillFailures"]))),
    metric(
      "ifd_stored_gaps",
      "gauge",
      "Gaps stored in the database, by status.",
      s.manager === null || s.manager["gaps"] === null || typeof s.manager["gaps"] !== "object"
        ? []
        : (["open", "pending", "recovered"] as const).map((k) =>
          [`{status="${k}"}`, num((s.manager!["gaps"] as Record<string, unknown>)[k]) ?? 0] as const
        )
    ),
    metric(
      "ifd_stream_phase",
      "gauge",
      "1 for the StreamManager's current phase.",
      s.manager === null
        ? []
        : (["Idle", "WaitingForOpen", "Streaming", "BudgetExhausted", "Stopping", "Stopped"] as const).map((k) =>
          [`{phase="${k}"}`, s.manager!.phase === k ? 1 : 0] as const
        )
    ),
    metric("ifd_budget_spent_usd", "gauge", "Spent on the trade date, USD.", one(s.budget === null ? null : num(s.budget["spentUsd"]))),
    metric("ifd_budget_remaining_usd", "gauge", "Left before the cutoff, USD.", one(s.budget === null ? null : num(s.budget["remainingUsd"]))),
    metric("ifd_budget_limit_usd", "gauge", "Daily budget times the cutoff, USD.", one(s.budget === null ? null : num(s.budget["limitUsd"]))),
    metric("ifd_budget_exhausted", "gauge", "1 when the day's budget is exhausted.", one(s.budget === null ? null : s.budget["exhausted"] === true ? 1 : 0)),
    metric("ifd_market_open", "gauge", "1 while the market-hours gate is open.", one(s.market === null ? null : s.market.open ? 1 : 0))
  ].join("")
}

// ---- Server ----

const encoder = new TextEncoder()
const sseEvent = (s: unknown) => encoder.encode(`event: signal\ndata: ${JSON.stringify(s)}\n\n`)
const sseNamed = (name: string, data: unknown) => encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)

/** How often `/events` sends the status snapshot. */
export const DASHBOARD_STATUS_INTERVAL = Duration.seconds(1)

const searchParams = Effect.map(HttpServerRequest.HttpServerRequest, (r) => new URL(r.url, "http://localhost").searchParams)

const storeFailure = (e: StoreError) =>
  Effect.succeed(HttpServerResponse.unsafeJson({ error: e.message }, { status: e.reason === "Input" ? 400 : 500 }))

/** The dashboard's JSON reads; without a database they answer empty (and the signals kept in memory). */
const dashboardRoutes = (status: StreamStatus, data: DashboardRepo.DashboardRepo | undefined) => {
  /** `?day=`, or the UTC day of the latest stored window. */
  const dayOf = (params: URLSearchParams) =>
    Effect.gen(function*() {
      const given = params.get("day")
      if (given !== null && given !== "") return given as string | undefined
      return data === undefined ? undefined : yield* data.latestDay()
    })
  const expirations = Effect.gen(function*() {
    const day = yield* dayOf(yield* searchParams)
    const list = day === undefined || data === undefined ? [] : yield* data.expirations(day)
    return HttpServerResponse.unsafeJson({ day: day ?? null, expirations: list })
  }).pipe(Effect.catchTag("StoreError", storeFailure))
  const windows = Effect.gen(function*() {
    const params = yield* searchParams
    const day = yield* dayOf(params)
    const expiration = params.get("expiration") ?? undefined
    const list = day === undefined || data === undefined ? [] : yield* data.windows(day, expiration)
    return HttpServerResponse.unsafeJson({ day: day ?? null, expiration: expiration ?? null, windows: list })
  }).pipe(Effect.catchTag("StoreError", storeFailure))
  const underlying = Effect.gen(function*() {
    const params = yield* searchParams
    const day = yield* dayOf(params)
    const expiration = params.get("expiration") ?? undefined
    const list = day === undefined || data === undefined ? [] : yield* data.underlying(day, expiration)
    return HttpServerResponse.unsafeJson({ day: day ?? null, expiration: expiration ?? null, underlying: list })
  }).pipe(Effect.catchTag("StoreError", storeFailure))
  const signals = Effect.gen(function*() {
    const day = yield* dayOf(yield* searchParams)
    const list = day === undefined || data === undefined
      ? [...(yield* status.recent)].reverse()
      : yield* data.signals(day)
    return HttpServerResponse.unsafeJson({ day: day ?? null, signals: list })
  }).pipe(Effect.catchTag("StoreError", storeFailure))
  return { expirations, windows, underlying, signals }
}

const control = (settings: ControlSettings, status: StreamStatus, action: Effect.Effect<void>) =>
  Effect.gen(function*() {
    if (Option.isNone(settings.token)) {
      return HttpServerResponse.unsafeJson(
        { ok: false, error: "control routes are disabled: set IFD_CONTROL_TOKEN to enable them" },
        { status: 403 }
      )
    }
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!authorized(request.headers["authorization"], settings.token.value)) {
      return HttpServerResponse.unsafeJson(
        { ok: false, error: "missing or wrong bearer token" },
        { status: 401, headers: { "www-authenticate": "Bearer" } }
      )
    }
    yield* action
    const s = yield* status.snapshot
    return HttpServerResponse.unsafeJson({ ok: true, paused: s.paused, stopping: s.stopping })
  })

/** The router; exported for tests that mount it on their own server. */
export const router = (settings: ControlSettings, status: StreamStatus, data?: DashboardRepo.DashboardRepo) => {
  const dashboard = dashboardRoutes(status, data)
  return HttpRouter.empty.pipe(
    HttpRouter.get("/", Effect.sync(() => HttpServerResponse.html(Page.html()))),
    HttpRouter.get("/api/expirations", dashboard.expirations),
    HttpRouter.get("/api/windows", dashboard.windows),
    HttpRouter.get("/api/underlying", dashboard.underlying),
    HttpRouter.get("/api/signals", dashboard.signals),
    HttpRouter.get(
      "/events",
      Effect.sync(() => {
        // Both subscriptions are taken before the first byte goes out, as for /signals.
        const body = Stream.unwrapScoped(Effect.gen(function*() {
          const signals = yield* PubSub.subscribe(status.signals)
          const windows = yield* PubSub.subscribe(status.windows)
          return Stream.concat(
            Stream.make(encoder.encode(": connected\n\n")),
            Stream.mergeAll([
              Stream.fromQueue(signals).pipe(Stream.map((s) => sseNamed("signal", s))),
              Stream.fromQueue(windows).pipe(Stream.map((w) => sseNamed("windows", w))),
              Stream.tick(DASHBOARD_STATUS_INTERVAL).pipe(
                Stream.mapEffect(() => status.snapshot),
                Stream.map((s) => sseNamed("status", s))
              ),
              Stream.tick(settings.heartbeat).pipe(Stream.drop(1), Stream.map(() => encoder.encode(": heartbeat\n\n")))
            ], { concurrency: "unbounded" })
          )
        }))
        return HttpServerResponse.stream(body, {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
        })
      })
    ),
    HttpRouter.get("/health", Effect.succeed(HttpServerResponse.text("ok"))),
    HttpRouter.get("/status", Effect.map(status.snapshot, (s) => HttpServerResponse.unsafeJson(s))),
    HttpRouter.get(
      "/metrics",
      Effect.map(status.snapshot, (s) =>
        HttpServerResponse.text(metricsOf(s), { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
    ),
    HttpRouter.get(
      "/signals",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const accept = request.headers["accept"] ?? ""
        if (!accept.includes("text/event-stream")) {
          return HttpServerResponse.unsafeJson({ signals: yield* status.recent })
        }
        // Subscribed before the first byte goes out: a client that has read the opening comment sees every later signal.
        const body = Stream.unwrapScoped(Effect.map(PubSub.subscribe(status.signals), (queue) =>
          Stream.concat(
            Stream.make(encoder.encode(": connected\n\n")),
            Stream.merge(
              Stream.fromQueue(queue).pipe(Stream.map(sseEvent)),
              Stream.tick(settings.heartbeat).pipe(Stream.drop(1), Stream.map(() => encoder.encode(": heartbeat\n\n")))
            )
          )))
        return HttpServerResponse.stream(body, {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
        })
      })
    ),
    HttpRouter.post("/control/pause", control(settings, status, status.pause)),
    HttpRouter.post("/control/resume", control(settings, status, status.resume)),
    HttpRouter.post("/control/stop", control(settings, status, status.requestStop))
  )
}

/** Starts the server in the current scope and returns where it listens. */
export const make = (settings: ControlSettings): Effect.Effect<
  HttpServer.TcpAddress,
  ServeError,
  StreamStatus | Scope.Scope
> =>
  Effect.gen(function*() {
    const status = yield* StreamStatus
    // The dashboard reads SQLite when the process has a database (live, replay --serve); otherwise it answers empty.
    const data = Option.getOrUndefined(Option.map(yield* Effect.serviceOption(SqlClient.SqlClient), DashboardRepo.make))
    const node = http.createServer()
    const server = yield* NodeHttpServer.make(() => node, { host: settings.host, port: settings.port })
    yield* HttpServer.serveEffect()(router(settings, status, data)).pipe(
      Effect.provideService(HttpServer.HttpServer, server)
    )
    // `server.close()` waits for open connections, and an SSE client never ends its own: drop them first.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    const address = server.address._tag === "TcpAddress"
      ? server.address
      : { _tag: "TcpAddress" as const, hostname: settings.host, port: settings.port }
    yield* Effect.logInfo("Control interface listening").pipe(Effect.annotateLogs({
      url: `http://${address.hostname}:${address.port}`,
      controlRoutes: Option.isSome(settings.token) ? "enabled" : "disabled (set IFD_CONTROL_TOKEN)"
    }))
    return address
  })

/** The server for the process's lifetime, configured from ControlConfig. */
export const layerWith: Layer.Layer<never, ServeError, StreamStatus | ControlConfig> = Layer.scopedDiscard(
  Effect.flatMap(ControlConfig, make)
)

/** The server configured from the environment (IFD_CONTROL_*). */
export const layer = layerWith.pipe(Layer.provide(layerSettingsConfig))

// ---- Client (the `status` command) ----

/** Reads a running instance's snapshot. */
export const fetchStatus = (options: { readonly host?: string | undefined; readonly port?: number | undefined } = {}) =>
  Effect.gen(function*() {
    const host = options.host ?? defaults.host
    const port = options.port ?? defaults.port
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/status`
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    const response = yield* client.get(url).pipe(
      Effect.timeout("5 seconds"),
      Effect.mapError((e) =>
        e._tag === "ResponseError"
          ? new ControlError({ reason: "BadResponse", detail: `${url} answered ${e.response.status}` })
          : new ControlError({ reason: "Unreachable", detail: `no ifd-stream control interface at ${url}` })
      )
    )
    const body = yield* response.json.pipe(
      Effect.mapError(() => new ControlError({ reason: "BadResponse", detail: `${url} did not answer JSON` }))
    )
    if (typeof body !== "object" || body === null || !("pipeline" in body) || !("source" in body)) {
      return yield* new ControlError({ reason: "BadResponse", detail: `${url} did not answer a status snapshot` })
    }
    return body as StatusSnapshot
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
