/**
 * The live gateway's control lines (everything before `start_session`), pure: splitting bytes into lines,
 * parsing and formatting the greeting, challenge, auth request and reply, subscriptions and session start.
 * Both the client and the fake gateway use it. shared/spec/databento.md §8.1–8.3.
 */

/** Symbols per subscription line, as in every official client. */
export const SYMBOLS_PER_LINE = 500

/** A control line longer than this without a newline means the peer is not speaking the protocol. */
export const MAX_LINE_BYTES = 64 * 1024

/** `key=value` pairs joined by `|`; empty segments (a trailing `|`) are ignored, a later key wins. */
export const parseFields = (line: string): ReadonlyMap<string, string> => {
  const fields = new Map<string, string>()
  for (const part of line.split("|")) {
    if (part.length === 0) continue
    const eq = part.indexOf("=")
    if (eq < 0) fields.set(part, "")
    else fields.set(part.slice(0, eq), part.slice(eq + 1))
  }
  return fields
}

export const formatFields = (fields: ReadonlyArray<readonly [string, string | number]>): string =>
  `${fields.map(([k, v]) => `${k}=${v}`).join("|")}\n`

// ---------------------------------------------------------------------------------------------------------------
// Greeting and challenge

export interface Greeting {
  /** `lsg_version` when the line carries one; any first line is accepted (the official mocks send `lsg-test`). */
  readonly lsgVersion: string | undefined
}

export const parseGreeting = (line: string): Greeting => ({ lsgVersion: parseFields(line).get("lsg_version") })

export const formatGreeting = (lsgVersion: string): string => formatFields([["lsg_version", lsgVersion]])

/** The CRAM challenge, or undefined when the line is not `cram=<challenge>`. */
export const parseChallenge = (line: string): string | undefined => {
  const cram = parseFields(line).get("cram")
  return cram === undefined || cram.length === 0 ? undefined : cram
}

export const formatChallenge = (challenge: string): string => formatFields([["cram", challenge]])

// ---------------------------------------------------------------------------------------------------------------
// Authentication

export interface AuthRequest {
  /** CRAM reply: `<sha256 hex>-<bucket>`. Secret-adjacent: never log the line. */
  readonly auth: string
  readonly dataset: string
  readonly encoding: string
  readonly tsOut: boolean
  readonly compression: string
  /** Gateway heartbeat interval in seconds (5..1800); absent = gateway default. */
  readonly heartbeatIntervalS: number | undefined
  readonly slowReaderBehavior: string | undefined
  readonly client: string | undefined
}

export const formatAuthRequest = (r: AuthRequest): string => {
  const fields: Array<readonly [string, string | number]> = [
    ["auth", r.auth],
    ["dataset", r.dataset],
    ["encoding", r.encoding],
    ["ts_out", r.tsOut ? 1 : 0],
    ["compression", r.compression]
  ]
  if (r.heartbeatIntervalS !== undefined) fields.push(["heartbeat_interval_s", r.heartbeatIntervalS])
  if (r.slowReaderBehavior !== undefined) fields.push(["slow_reader_behavior", r.slowReaderBehavior])
  // `|` and newlines would break the line framing.
  if (r.client !== undefined) fields.push(["client", r.client.replace(/[|\r\n]/g, " ")])
  return formatFields(fields)
}

/** Parses an auth request (fake gateway side); undefined when `auth` or `dataset` is missing. */
export const parseAuthRequest = (line: string): AuthRequest | undefined => {
  const f = parseFields(line)
  const auth = f.get("auth")
  const dataset = f.get("dataset")
  if (auth === undefined || dataset === undefined) return undefined
  const hb = f.get("heartbeat_interval_s")
  return {
    auth,
    dataset,
    encoding: f.get("encoding") ?? "dbn",
    tsOut: f.get("ts_out") === "1",
    compression: f.get("compression") ?? "none",
    heartbeatIntervalS: hb === undefined || !/^\d+$/.test(hb) ? undefined : Number(hb),
    slowReaderBehavior: f.get("slow_reader_behavior"),
    client: f.get("client")
  }
}

export type AuthReply =
  | { readonly _tag: "Success"; readonly sessionId: string; readonly fields: ReadonlyMap<string, string> }
  | { readonly _tag: "Failure"; readonly error: string }

/** `success=1|session_id=N` (extra keys and a trailing `|` tolerated); a missing `success` is a failure. */
export const parseAuthReply = (line: string): AuthReply => {
  const f = parseFields(line)
  const success = f.get("success")
  if (success === "1") return { _tag: "Success", sessionId: f.get("session_id") ?? "", fields: f }
  const error = f.get("error")
  if (error !== undefined && error.length > 0) return { _tag: "Failure", error }
  const why = success === undefined ? "auth reply without a success key" : "authentication failed"
  return { _tag: "Failure", error: why }
}

export const formatAuthSuccess = (sessionId: string | number): string => `success=1|session_id=${sessionId}|\n`

export const formatAuthFailure = (error: string): string =>
  formatFields([["success", 0], ["error", error.replace(/[|\r\n]/g, " ")]])

// ---------------------------------------------------------------------------------------------------------------
// Subscriptions

export interface Subscription {
  /** Schema name: `mbo`, `definition`, … */
  readonly schema: string
  /** `parent`, `raw_symbol`, `instrument_id`, … */
  readonly stypeIn: string
  readonly symbols: ReadonlyArray<string>
  /** Replay from this time (UNIX ns), inclusive on ts_event. Not allowed together with `snapshot`. */
  readonly start?: bigint | undefined
  readonly snapshot?: boolean | undefined
  /** Client-chosen id the gateway echoes in its acknowledgement. */
  readonly id?: number | undefined
}

/** One line per `SYMBOLS_PER_LINE` symbols; every chunk repeats the other fields and the last one has `is_last=1`. */
export const formatSubscription = (s: Subscription, perLine: number = SYMBOLS_PER_LINE): ReadonlyArray<string> => {
  const symbols = s.symbols.length === 0 ? ["ALL_SYMBOLS"] : s.symbols
  const lines: Array<string> = []
  for (let i = 0; i < symbols.length; i += perLine) {
    const isLast = i + perLine >= symbols.length
    const fields: Array<readonly [string, string | number]> = [
      ["schema", s.schema],
      ["stype_in", s.stypeIn],
      ["symbols", symbols.slice(i, i + perLine).join(",")]
    ]
    if (s.start !== undefined) fields.push(["start", s.start.toString()])
    fields.push(["snapshot", s.snapshot === true && s.start === undefined ? 1 : 0])
    if (s.id !== undefined) fields.push(["id", s.id])
    fields.push(["is_last", isLast ? 1 : 0])
    lines.push(formatFields(fields))
  }
  return lines
}

export interface SubscriptionLine extends Subscription {
  readonly isLast: boolean
}

const parseStart = (text: string): bigint | undefined => {
  if (/^\d+$/.test(text)) return BigInt(text)
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n
}

/** Parses one subscription line (fake gateway side); undefined when it is not one. */
export const parseSubscription = (line: string): SubscriptionLine | undefined => {
  const f = parseFields(line)
  const schema = f.get("schema")
  const symbols = f.get("symbols")
  if (schema === undefined || symbols === undefined) return undefined
  const startText = f.get("start")
  const start = startText === undefined ? undefined : parseStart(startText)
  if (startText !== undefined && start === undefined) return undefined
  const idText = f.get("id")
  return {
    schema,
    stypeIn: f.get("stype_in") ?? "raw_symbol",
    symbols: symbols.split(",").filter((s) => s.length > 0),
    start,
    snapshot: f.get("snapshot") === "1",
    id: idText === undefined || !/^\d+$/.test(idText) ? undefined : Number(idText),
    // Older clients send one line per subscription without is_last.
    isLast: f.get("is_last") !== "0"
  }
}

/** The line that ends the control phase; everything after it is DBN. */
export const START_SESSION = "start_session\n"

/** Python sends `start_session=0`; both mean the same. */
export const isStartSession = (line: string): boolean => line === "start_session" || line.startsWith("start_session=")

// ---------------------------------------------------------------------------------------------------------------
// Framing

const decoder = new TextDecoder("utf-8")

/**
 * Splits a byte stream into `\n`-terminated lines however the reads split or merge them, and hands back the
 * bytes after the last line taken (the start of the DBN stream, which may arrive in the same read as the auth reply).
 */
export class LineReader {
  private buf = new Uint8Array(256)
  private start = 0
  private end = 0

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    if (this.end + bytes.length > this.buf.length) {
      const live = this.end - this.start
      if (live + bytes.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end)
      } else {
        const next = new Uint8Array(Math.max(this.buf.length * 2, live + bytes.length))
        next.set(this.buf.subarray(this.start, this.end))
        this.buf = next
      }
      this.start = 0
      this.end = live
    }
    this.buf.set(bytes, this.end)
    this.end += bytes.length
  }

  /** Bytes held that do not yet form a complete line. */
  get pending(): number {
    return this.end - this.start
  }

  /** True when the pending bytes hold no newline and exceed `MAX_LINE_BYTES`. */
  get overflowed(): boolean {
    return this.pending > MAX_LINE_BYTES && this.buf.subarray(this.start, this.end).indexOf(0x0a) < 0
  }

  /** The next complete line without its `\n` (and a `\r` before it), or undefined. */
  next(): string | undefined {
    const nl = this.buf.subarray(this.start, this.end).indexOf(0x0a)
    if (nl < 0) return undefined
    let stop = this.start + nl
    const at = this.start
    this.start = stop + 1
    if (stop > at && this.buf[stop - 1] === 0x0d) stop--
    const line = decoder.decode(this.buf.subarray(at, stop))
    if (this.start === this.end) this.start = this.end = 0
    return line
  }

  /** Takes every byte not consumed as a line (a fresh copy) and empties the reader. */
  rest(): Uint8Array {
    const out = this.buf.slice(this.start, this.end)
    this.start = this.end = 0
    return out
  }
}
