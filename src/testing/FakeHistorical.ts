/**
 * A loopback Databento historical API for tests and demos: HTTP basic auth with the key, the metadata endpoints
 * answering configured numbers, timeseries.get_range streaming given DBN bytes (plain, or a .dbn.zst served as-is),
 * and scripted faults (N×429, 5xx, 401 with a detail body, a body cut off midway). shared/spec/databento.md §10.
 */
import { Data, Effect, Redacted, type Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export class FakeHistoricalError extends Data.TaggedError("FakeHistoricalError")<{
  readonly detail: string
}> {
  override get message(): string {
    return `FakeHistorical: ${this.detail}`
  }
}

/** A scripted failure answered instead of the real reply. */
export interface Fault {
  /** The endpoint it applies to, e.g. "timeseries.get_range"; any endpoint when omitted. */
  readonly endpoint?: string
  readonly status: number
  /** Sent as `{"detail": …}`: Databento's plain or structured form. */
  readonly detail?: string | { readonly case?: string; readonly message: string; readonly docs?: string }
  /** A raw body instead of `detail`. */
  readonly body?: string
  readonly retryAfterSeconds?: number
  /** How many matching requests it answers (default 1). */
  readonly times?: number
}

export interface FakeHistoricalOptions {
  readonly apiKey: Redacted.Redacted<string> | string
  /** metadata.get_cost reply, USD (default 0.25). */
  readonly cost?: number
  /** metadata.get_record_count reply (default 0). */
  readonly recordCount?: number
  /** metadata.get_billable_size reply (default: the byte length of `data`). */
  readonly billableSize?: number
  /** timeseries.get_range body: DBN bytes, plain or zstd (default empty). */
  readonly data?: Uint8Array
  /**
   * Per-request data instead (e.g. by `schema` and `start`, as the real API answers each query with its own
   * records); it also sizes get_billable_size. Wins over `data` when given.
   */
  readonly dataFor?: (form: Readonly<Record<string, string>>) => Uint8Array
  /** Body written in pieces of this many bytes (default 4096). */
  readonly chunkBytes?: number
  /** Destroy the connection after this many body bytes of a get_range reply. */
  readonly cutAfterBytes?: number
  readonly faults?: ReadonlyArray<Fault>
}

export interface RecordedRequest {
  /** e.g. "metadata.get_cost"; the raw path when unknown. */
  readonly endpoint: string
  readonly method: string
  /** Whether the basic-auth header carried the right key. */
  readonly authorized: boolean
  /** Form fields (or query parameters of a GET). */
  readonly form: Readonly<Record<string, string>>
  readonly status: number
}

export interface FakeHistorical {
  /** Base URL, e.g. http://127.0.0.1:54321 (no trailing slash). */
  readonly url: string
  readonly requests: () => ReadonlyArray<RecordedRequest>
  /** Appends faults to the script. */
  readonly script: (faults: ReadonlyArray<Fault>) => void
  /** Changes the replies for later requests. */
  readonly set: (
    values: Partial<Pick<FakeHistoricalOptions, "cost" | "recordCount" | "billableSize" | "data" | "cutAfterBytes">>
  ) => void
}

const ENDPOINTS = new Set([
  "metadata.get_cost",
  "metadata.get_record_count",
  "metadata.get_billable_size",
  "timeseries.get_range"
])

const REQUIRED = ["dataset", "schema", "start"] as const

export const serve = (
  options: FakeHistoricalOptions
): Effect.Effect<FakeHistorical, FakeHistoricalError, Scope.Scope> =>
  Effect.gen(function*() {
    const key = typeof options.apiKey === "string" ? options.apiKey : Redacted.value(options.apiKey)
    const expectedAuth = `Basic ${Buffer.from(`${key}:`).toString("base64")}`
    const state = {
      cost: options.cost ?? 0.25,
      recordCount: options.recordCount ?? 0,
      billableSize: options.billableSize,
      data: options.data ?? new Uint8Array(0),
      cutAfterBytes: options.cutAfterBytes
    }
    const chunkBytes = Math.max(1, options.chunkBytes ?? 4096)
    const faults: Array<{ fault: Fault; left: number }> = []
    const script = (more: ReadonlyArray<Fault>) => {
      for (const fault of more) faults.push({ fault, left: fault.times ?? 1 })
    }
    script(options.faults ?? [])
    const log: Array<RecordedRequest> = []

    const takeFault = (endpoint: string): Fault | undefined => {
      const i = faults.findIndex((f) => f.left > 0 && (f.fault.endpoint === undefined || f.fault.endpoint === endpoint))
      if (i < 0) return undefined
      const f = faults[i]!
      f.left--
      if (f.left === 0) faults.splice(i, 1)
      return f.fault
    }

    const json = (res: Http.ServerResponse, status: number, body: unknown, headers: Http.OutgoingHttpHeaders = {}) => {
      res.writeHead(status, { "content-type": "application/json", "request-id": `fake-${log.length}`, ...headers })
      res.end(JSON.stringify(body))
    }

    const streamBody = (res: Http.ServerResponse, data: Uint8Array, cutAfter: number | undefined) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "request-id": `fake-${log.length}` })
      const end = cutAfter === undefined ? data.length : Math.min(cutAfter, data.length)
      let offset = 0
      const pump = () => {
        while (offset < end) {
          const piece = data.subarray(offset, Math.min(end, offset + chunkBytes))
          offset += piece.length
          if (!res.write(piece)) return void res.once("drain", pump)
        }
        if (cutAfter === undefined) res.end()
        else res.socket?.destroy()
      }
      pump()
    }

    const handle = (req: Http.IncomingMessage, res: Http.ServerResponse, body: string) => {
      const url = new URL(req.url ?? "/", "http://fake")
      const endpoint = url.pathname.startsWith("/v0/") ? url.pathname.slice(4) : url.pathname
      const params = new URLSearchParams(req.method === "GET" ? url.search : body)
      const form: Record<string, string> = {}
      for (const [k, v] of params) form[k] = v
      const authorized = req.headers.authorization === expectedAuth
      const record = (status: number) => log.push({ endpoint, method: req.method ?? "", authorized, form, status })

      const fault = takeFault(endpoint)
      if (fault !== undefined) {
        record(fault.status)
        const headers: Http.OutgoingHttpHeaders = fault.retryAfterSeconds === undefined
          ? {}
          : { "retry-after": String(fault.retryAfterSeconds) }
        if (fault.body !== undefined) {
          res.writeHead(fault.status, { "content-type": "text/plain", ...headers })
          return void res.end(fault.body)
        }
        return json(res, fault.status, { detail: fault.detail ?? `scripted ${fault.status}` }, headers)
      }
      if (!ENDPOINTS.has(endpoint)) {
        record(404)
        return json(res, 404, { detail: "Not Found" })
      }
      if (req.method !== "POST" && req.method !== "GET") {
        record(405)
        return json(res, 405, { detail: "Method Not Allowed" })
      }
      if (!authorized) {
        record(401)
        return json(res, 401, {
          detail: { case: "auth_invalid", message: "Authentication failed: the API key is not valid.", docs: "" }
        })
      }
      const missing = REQUIRED.filter((k) => form[k] === undefined || form[k] === "")
      if (missing.length > 0) {
        record(422)
        return json(res, 422, { detail: `missing required field(s): ${missing.join(", ")}` })
      }
      record(200)
      switch (endpoint) {
        case "metadata.get_cost":
          return json(res, 200, state.cost)
        case "metadata.get_record_count":
          return json(res, 200, state.recordCount)
        case "metadata.get_billable_size":
          return json(res, 200, state.billableSize ?? (options.dataFor?.(form) ?? state.data).length)
        default:
          return streamBody(res, options.dataFor?.(form) ?? state.data, state.cutAfterBytes)
      }
    }

    const server = yield* Effect.acquireRelease(
      Effect.async<Http.Server, FakeHistoricalError>((resume) => {
        const server = Http.createServer((req, res) => {
          const parts: Array<Buffer> = []
          req.on("data", (b: Buffer) => parts.push(b))
          req.on("end", () => handle(req, res, Buffer.concat(parts).toString("utf8")))
        })
        server.once("error", (e) => resume(Effect.fail(new FakeHistoricalError({ detail: `listen: ${e.message}` }))))
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address() as AddressInfo

    return {
      url: `http://127.0.0.1:${address.port}`,
      requests: () => [...log],
      script,
      set: (values) => {
        if (values.cost !== undefined) state.cost = values.cost
        if (values.recordCount !== undefined) state.recordCount = values.recordCount
        if (values.billableSize !== undefined) state.billableSize = values.billableSize
        if (values.data !== undefined) state.data = values.data
        if ("cutAfterBytes" in values) state.cutAfterBytes = values.cutAfterBytes
      }
    }
  })
