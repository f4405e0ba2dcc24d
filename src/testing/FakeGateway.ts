/**
 * A loopback Databento live gateway for tests and demos: greeting, CRAM, auth, subscriptions, start_session,
 * then live-form DBN v3 (metadata, symbol mappings, acks, a book snapshot for `snapshot=1`, records filtered by
 * `start`, replay completed, heartbeats when idle), with scripted faults per connection.
 * shared/spec/databento.md §2.3, §5.5–5.6, §7, §8.
 */
import { Clock, Data, Duration, Effect, Exit, FiberSet, Mailbox, Option, Redacted, type Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as Net from "node:net"
import { randomBytes } from "node:crypto"
import { concatBytes } from "../dbn/Bytes.js"
import { ErrorCode, RType, SType, SystemCode, UNDEF_TIMESTAMP } from "../dbn/Constants.js"
import { DbnDecoder } from "../dbn/Decoder.js"
import * as Encoder from "../dbn/Encoder.js"
import type { Metadata } from "../dbn/Metadata.js"
import * as Zstd from "../dbn/Zstd.js"
import * as Cram from "../live/Cram.js"
import * as Gateway from "../live/Gateway.js"
import { SnapshotBooks } from "./SnapshotBooks.js"

export class FakeGatewayError extends Data.TaggedError("FakeGatewayError")<{
  readonly reason: "Listen" | "Data"
  readonly detail: string
}> {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}

/** What can go wrong on one connection; record counts are data records sent on that connection. */
export interface ConnectionFaults {
  /** Close right after accepting, before the greeting. */
  readonly refuse?: boolean
  /** Answer the auth request with `success=0|error=<text>` and close, whatever the key. */
  readonly rejectAuth?: string
  /** When a subscription asks for `start`: send an ErrorMsg (INVALID_SUBSCRIPTION) and close. */
  readonly refuseReplay?: boolean
  /** Reset the connection (RST, no goodbye) after this many records. */
  readonly dropAfterRecords?: number
  /** Close cleanly (FIN) after this many records. */
  readonly closeAfterRecords?: number
  /** Go silent (no records, no heartbeats) after this many records, keeping the connection open. */
  readonly stallAfterRecords?: number
  /** Write a record header the decoder cannot frame (length 0) after this many records, then go on. */
  readonly corruptAfterRecords?: number
  /** Send an ErrorMsg with this code and text after this many records, then close (as a gateway does). */
  readonly errorAfterRecords?: { readonly records: number; readonly code: number; readonly text: string }
  /**
   * After this many records, say the gateway skipped records for a slow reader (ErrorMsg code 7, as the real
   * gateway does) and leave out the next `skip` records, then go on.
   */
  readonly skipAfterRecords?: { readonly records: number; readonly skip: number }
  /** Write everything in pieces of this many bytes (1 = byte by byte): control lines, metadata and records. */
  readonly fragmentBytes?: number
  /** Fragment only the first this-many records (then write normally); default all. */
  readonly fragmentRecords?: number
  /** Without `start`: skip this many records past the furthest any connection got (missed while away). */
  readonly skipOnLive?: number
}

export type FakeData =
  | {
    readonly _tag: "Records"
    /** DBN v3 records back to back (no metadata). */
    readonly bytes: Uint8Array
  }
  | {
    readonly _tag: "File"
    /** A DBN v3 file (`.dbn` or `.dbn.zst`), streamed on every connection. */
    readonly path: string
  }

export const records = (bytes: Uint8Array): FakeData => ({ _tag: "Records", bytes })
export const file = (path: string): FakeData => ({ _tag: "File", path })

export interface FakeGatewayOptions {
  /** The key the CRAM reply must prove. */
  readonly apiKey: Redacted.Redacted<string> | string
  readonly data: FakeData
  readonly dataset?: string
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0 (any free port). */
  readonly port?: number
  readonly lsgVersion?: string
  /** Heartbeat interval when idle; default the client's `heartbeat_interval_s`, else 30 s. */
  readonly heartbeat?: Duration.Duration
  /** Faults per connection index (0-based, every accepted connection counts). */
  readonly faults?: ReadonlyArray<ConnectionFaults | undefined> | ((connection: number) => ConnectionFaults | undefined)
  /** Refuse (close at once) the first K connections. */
  readonly refuseFirst?: number
  /** Bytes per write when not fragmenting (a block's last write may be shorter). Default 256 KiB. */
  readonly chunkBytes?: number
  /** 0 = as fast as the client reads; otherwise pace records by ts_event at `speed` × real time. */
  readonly speed?: number
  /** Instrument id → raw symbol for SymbolMappingMsg; default from the file's metadata or the records' ids. */
  readonly symbols?: ReadonlyMap<number, string>
}

export interface ConnectionLog {
  readonly index: number
  sessionId: number | undefined
  /** The auth request without its CRAM reply. */
  auth: Omit<Gateway.AuthRequest, "auth"> | undefined
  authenticated: boolean
  subscriptions: Array<Gateway.SubscriptionLine>
  started: boolean
  /** Index (in the served data) of the first record sent. */
  firstRecord: number | undefined
  recordsSent: number
  /**
   * The `snapshot=1` book snapshot sent: the books as every record before index `at` left them, in `records` MBO
   * records (not counted in `recordsSent`, nor by the faults).
   */
  snapshot: { readonly at: number; readonly records: number } | undefined
  heartbeatsSent: number
  /** The fault that ended it, if one did. */
  fault: string | undefined
  closed: boolean
}

export interface FakeGateway {
  readonly host: string
  readonly port: number
  /** Every connection so far, in order. */
  readonly connections: () => ReadonlyArray<ConnectionLog>
  /** Furthest record index any connection has sent (the "live" head). */
  readonly liveHead: () => number
  /** Stops listening and closes every connection (also done when the scope closes). */
  readonly close: Effect.Effect<void>
}

// ---------------------------------------------------------------------------------------------------------------
// Record sources

interface Block {
  readonly bytes: Uint8Array
  /** Index of the first record in `bytes` within the served data. */
  readonly first: number
}

interface Source {
  readonly dataset: string | undefined
  readonly symbols: ReadonlyMap<number, string>
  /** Blocks of whole records, from record index `fromIndex` (and ts_event >= `fromTs`) on. */
  readonly blocks: (fromIndex: number, fromTs: bigint | undefined) => Stream.Stream<Block, FakeGatewayError>
}

const BLOCK = 256 * 1024

const tsAt = (view: DataView, off: number): bigint => view.getBigUint64(off + 8, true)

const memorySource = (bytes: Uint8Array): Source => {
  const offsets: Array<number> = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const symbols = new Map<number, string>()
  for (let off = 0; off < bytes.length;) {
    const len = bytes[off]! * 4
    if (len < 16 || off + len > bytes.length) throw new Error(`bad record framing at byte ${off}`)
    offsets.push(off)
    const id = view.getUint32(off + 4, true)
    if (bytes[off + 1] === RType.MBO && !symbols.has(id)) symbols.set(id, String(id))
    off += len
  }
  offsets.push(bytes.length)
  const count = offsets.length - 1
  return {
    dataset: undefined,
    symbols,
    blocks: (fromIndex, fromTs) =>
      Stream.suspend(() => {
        let i = fromIndex
        if (fromTs !== undefined) while (i < count && tsAt(view, offsets[i]!) < fromTs) i++
        const out: Array<Block> = []
        while (i < count) {
          let j = i
          while (j < count && offsets[j + 1]! - offsets[i]! <= BLOCK) j++
          if (j === i) j = i + 1
          out.push({ bytes: bytes.subarray(offsets[i]!, offsets[j]!), first: i })
          i = j
        }
        return Stream.fromIterable(out)
      })
  }
}

const READ_BYTES = 1 << 20

/**
 * Streams a DBN file, zstd or plain, as decompressed bytes. A plain file is read into one buffer refilled for every
 * piece, so a piece is valid until the next one is pulled (the sender writes a block out before pulling the next).
 */
const fileBytes = (path: string): Stream.Stream<Uint8Array, FakeGatewayError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const fail = (detail: string) => new FakeGatewayError({ reason: "Data", detail: `${path}: ${detail}` })
    const failWith = (e: unknown) => fail(e instanceof Error ? e.message : String(e))
    const file = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => fs.promises.open(path, "r"), catch: failWith }),
      (h) => Effect.promise(() => h.close())
    )
    const buffer = new Uint8Array(READ_BYTES)
    let zstd: Zstd.ZstdDecompressor | undefined
    let first = true
    const read = Effect.tryPromise({ try: () => file.read(buffer, 0, buffer.length, null), catch: failWith }).pipe(
      Effect.mapError(Option.some),
      Effect.flatMap(({ bytesRead }) => {
        if (bytesRead === 0) return Effect.fail(Option.none())
        if (first) {
          first = false
          if (Zstd.isZstd(buffer.subarray(0, bytesRead))) zstd = new Zstd.ZstdDecompressor()
        }
        // The decompressor may keep its input: it gets a copy.
        return Effect.succeed(zstd === undefined ? buffer.subarray(0, bytesRead) : buffer.slice(0, bytesRead))
      })
    )
    return Stream.repeatEffectOption(read).pipe(
      Stream.concat(Stream.make(new Uint8Array(0))),
      Stream.mapConcatEffect((b) => {
        if (zstd === undefined) return Effect.succeed(b.length === 0 ? [] : [b])
        const r = b.length === 0 ? zstd.finish() : zstd.push(b)
        return r.problem === undefined ? Effect.succeed(r.chunks) : Effect.fail(fail(r.problem.detail))
      })
    )
  }))

/** Reads the prelude and metadata of a DBN file (v3 only: records are forwarded byte for byte). */
const readMetadata = (path: string) =>
  Effect.gen(function*() {
    const decoder = new DbnDecoder()
    let metadata: Metadata | undefined
    yield* fileBytes(path).pipe(
      Stream.takeUntil((b) => {
        decoder.push(b)
        const out = decoder.drain()
        if (out.metadata !== undefined) metadata = out.metadata
        return metadata !== undefined || out.fatal !== undefined
      }),
      Stream.runDrain
    )
    if (metadata === undefined) {
      return yield* new FakeGatewayError({ reason: "Data", detail: `${path}: no DBN metadata` })
    }
    if (metadata.version !== 3) {
      const detail = `${path}: DBN v${metadata.version}; the fake gateway serves v3 files`
      return yield* new FakeGatewayError({ reason: "Data", detail })
    }
    return metadata
  })

const fileSource = (path: string) =>
  Effect.map(readMetadata(path), (metadata): Source => {
    const symbols = new Map<number, string>()
    for (const m of metadata.mappings) {
      for (const iv of m.intervals) {
        const id = Number(iv.symbol)
        if (Number.isInteger(id) && !symbols.has(id)) symbols.set(id, m.raw_symbol)
      }
    }
    return {
      dataset: metadata.dataset,
      symbols,
      blocks: (fromIndex, fromTs) =>
        Stream.suspend(() => {
          // Frames records across reads: skips the metadata, then emits whole records only, as views of the read
          // (valid until the next is pulled); only a record split between two reads is copied.
          let tail: Uint8Array | undefined
          let skip = -1
          let index = 0
          let started = fromTs === undefined
          /** Blocks of the whole records in `buf` from `off`; what is left over becomes the tail. */
          const frame = (buf: Uint8Array, off: number, out: Array<Block>): void => {
            const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
            let blockStart = -1
            let blockFirst = 0
            while (off + 16 <= buf.length) {
              const len = buf[off]! * 4
              if (len < 16 || off + len > buf.length) break
              if (blockStart < 0 && index >= fromIndex && (started || tsAt(view, off) >= fromTs!)) {
                started = true
                blockStart = off
                blockFirst = index
              }
              off += len
              index++
            }
            if (blockStart >= 0) out.push({ bytes: buf.subarray(blockStart, off), first: blockFirst })
            tail = off < buf.length ? buf.slice(off) : undefined
          }
          return fileBytes(path).pipe(Stream.mapConcat((b): Array<Block> => {
            let buf: Uint8Array = b
            let off = 0
            const out: Array<Block> = []
            if (tail !== undefined) {
              const t = tail
              tail = undefined
              const len = t[0]! * 4
              if (skip >= 0 && len >= 16 && len - t.length <= b.length) {
                // The record split between the two reads: completed in a copy, then on in this read.
                off = len - t.length
                const rec = new Uint8Array(len)
                rec.set(t)
                rec.set(b.subarray(0, off), t.length)
                frame(rec, 0, out)
              } else {
                buf = new Uint8Array(t.length + b.length)
                buf.set(t)
                buf.set(b, t.length)
              }
            }
            if (skip < 0) {
              if (buf.length - off < 8) {
                tail = buf.slice(off)
                return out
              }
              skip = 8 + new DataView(buf.buffer, buf.byteOffset + off + 4, 4).getUint32(0, true)
            }
            if (skip > 0) {
              const n = Math.min(skip, buf.length - off)
              off += n
              skip -= n
              if (skip > 0) return out
            }
            frame(buf, off, out)
            return out
          }))
        })
    }
  })

// ---------------------------------------------------------------------------------------------------------------
// Wire helpers

const encoder = new TextEncoder()

const nowNs = Effect.map(Clock.currentTimeNanos, (n) => n)

const liveMetadata = (dataset: string, start: bigint): Uint8Array =>
  Encoder.encodeMetadata({
    version: 3,
    dataset,
    schema: null,
    start,
    end: UNDEF_TIMESTAMP,
    limit: 0n,
    stype_in: null,
    stype_out: SType.INSTRUMENT_ID,
    ts_out: false,
    symbol_cstr_len: 71,
    symbols: [],
    partial: [],
    not_found: [],
    mappings: []
  })

const systemMsg = (ts: bigint, msg: string, code: number): Uint8Array =>
  Encoder.encodeRecord({
    _tag: "system",
    hd: { length: 320, rtype: RType.SYSTEM, publisher_id: 0, instrument_id: 0, ts_event: ts },
    msg,
    code,
    isHeartbeat: code === SystemCode.HEARTBEAT
  })

const errorMsg = (ts: bigint, err: string, code: number): Uint8Array =>
  Encoder.encodeRecord({
    _tag: "error",
    hd: { length: 320, rtype: RType.ERROR, publisher_id: 0, instrument_id: 0, ts_event: ts },
    err,
    code,
    is_last: 1
  })

const symbolMapping = (ts: bigint, instrumentId: number, stypeIn: number, inSymbol: string, rawSymbol: string) =>
  Encoder.encodeRecord({
    _tag: "symbolMapping",
    hd: { length: 176, rtype: RType.SYMBOL_MAPPING, publisher_id: 0, instrument_id: instrumentId, ts_event: ts },
    stype_in: stypeIn,
    stype_in_symbol: inSymbol,
    stype_out: SType.INSTRUMENT_ID,
    stype_out_symbol: rawSymbol,
    start_ts: UNDEF_TIMESTAMP,
    end_ts: UNDEF_TIMESTAMP
  })

/** rtypes a schema subscription delivers. */
const RTYPES_OF: Record<string, ReadonlyArray<number>> = {
  "mbo": [RType.MBO],
  "mbp-1": [RType.MBP_1],
  "tbbo": [RType.MBP_1],
  "mbp-10": [RType.MBP_10],
  "trades": [RType.MBP_0],
  "definition": [RType.INSTRUMENT_DEF],
  "statistics": [RType.STATISTICS],
  "status": [RType.STATUS],
  "imbalance": [RType.IMBALANCE],
  "ohlcv-1s": [RType.OHLCV_1S],
  "ohlcv-1m": [RType.OHLCV_1M],
  "ohlcv-1h": [RType.OHLCV_1H],
  "ohlcv-1d": [RType.OHLCV_1D],
  "ohlcv-eod": [RType.OHLCV_EOD],
  "cmbp-1": [RType.CMBP_1],
  "cbbo-1s": [RType.CBBO_1S],
  "cbbo-1m": [RType.CBBO_1M],
  "tcbbo": [RType.TCBBO],
  "bbo-1s": [RType.BBO_1S],
  "bbo-1m": [RType.BBO_1M]
}

const STYPE_IDS: Record<string, number> = Object.fromEntries(
  ["instrument_id", "raw_symbol", "smart", "continuous", "parent"].map((n, i) => [n, i])
)

/** A header whose length byte is 0: no decoder can frame past it. */
const CORRUPT = new Uint8Array([0, RType.MBO, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])

// ---------------------------------------------------------------------------------------------------------------
// Server

const randomChallenge = (): string => {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
  return Array.from(randomBytes(32), (b) => letters[b % letters.length]).join("")
}

/** Why a connection ended early, or undefined when the client closed it. */
type Ending = "dropped" | "closed" | "stalled" | undefined

/**
 * Listens on a loopback port until the scope closes. Every accepted connection runs the protocol on its own
 * fiber, in the caller's runtime (so a `TestClock` drives its heartbeats and pacing).
 */
export const serve = (options: FakeGatewayOptions): Effect.Effect<FakeGateway, FakeGatewayError, Scope.Scope> =>
  Effect.gen(function*() {
    const key = typeof options.apiKey === "string" ? Redacted.make(options.apiKey) : options.apiKey
    const source = options.data._tag === "Records"
      ? yield* Effect.try({
        try: () => memorySource((options.data as { readonly bytes: Uint8Array }).bytes),
        catch: (e) => new FakeGatewayError({ reason: "Data", detail: e instanceof Error ? e.message : String(e) })
      })
      : yield* fileSource(options.data.path)
    const dataset = options.dataset ?? source.dataset ?? "GLBX.MDP3"
    const symbols = options.symbols ?? source.symbols
    const chunkBytes = options.chunkBytes ?? 256 * 1024
    const speed = options.speed ?? 0
    const logs: Array<ConnectionLog> = []
    const sockets = new Set<Net.Socket>()
    let liveHead = 0
    let sessionIds = 0
    const faultsFor = (i: number): ConnectionFaults => {
      const f = typeof options.faults === "function" ? options.faults(i) : options.faults?.[i]
      return { ...(f ?? {}), ...(i < (options.refuseFirst ?? 0) ? { refuse: true } : {}) }
    }

    const runFork = yield* FiberSet.makeRuntime<never>()

    const handle = (sock: Net.Socket, log: ConnectionLog) =>
      Effect.gen(function*() {
        const faults = faultsFor(log.index)
        if (faults.refuse === true) {
          log.fault = "refused"
          sock.destroy()
          return
        }
        const lines = yield* Mailbox.make<string>()
        const reader = new Gateway.LineReader()
        let controlDone = false
        sock.on("data", (b: Buffer) => {
          if (controlDone) return
          reader.push(b)
          let line: string | undefined
          while ((line = reader.next()) !== undefined) {
            lines.unsafeOffer(line)
            if (Gateway.isStartSession(line)) controlDone = true
          }
        })
        sock.on("end", () => lines.unsafeDone(Exit.void))

        let fragmentLeft = faults.fragmentBytes === undefined ? 0 : faults.fragmentRecords ?? Number.MAX_SAFE_INTEGER
        const writeRaw = (bytes: Uint8Array) =>
          Effect.async<void>((resume) => {
            if (sock.destroyed) return resume(Effect.interrupt)
            sock.write(bytes, () => resume(Effect.void))
          })
        const write = (bytes: Uint8Array | string): Effect.Effect<void> => {
          const b = typeof bytes === "string" ? encoder.encode(bytes) : bytes
          if (b.length === 0) return Effect.void
          if (faults.fragmentBytes === undefined || fragmentLeft <= 0) return writeRaw(b)
          const step = Math.max(1, faults.fragmentBytes)
          return Effect.forEach(
            Array.from({ length: Math.ceil(b.length / step) }, (_, i) => b.subarray(i * step, (i + 1) * step)),
            writeRaw,
            { discard: true }
          )
        }
        const takeLine = Effect.catchAll(lines.take, () => Effect.interrupt)

        yield* write(Gateway.formatGreeting(options.lsgVersion ?? "0.0.0-fake"))
        const challenge = randomChallenge()
        yield* write(Gateway.formatChallenge(challenge))
        const auth = Gateway.parseAuthRequest(yield* takeLine)
        if (auth !== undefined) {
          const { auth: _answer, ...rest } = auth
          log.auth = rest
        }
        const rejection = faults.rejectAuth ??
          (auth === undefined
            ? "Malformed authentication request."
            : !Cram.verify(challenge, key, auth.auth)
            ? "Authentication failed."
            : auth.dataset !== dataset
            ? `Unknown dataset ${auth.dataset}.`
            : undefined)
        if (rejection !== undefined) {
          log.fault = "auth rejected"
          yield* write(Gateway.formatAuthFailure(rejection))
          sock.end()
          return
        }
        const sessionId = ++sessionIds
        log.sessionId = sessionId
        log.authenticated = true
        yield* write(Gateway.formatAuthSuccess(sessionId))

        while (true) {
          const line = yield* takeLine
          if (Gateway.isStartSession(line)) break
          const sub = Gateway.parseSubscription(line)
          if (sub !== undefined) log.subscriptions.push(sub)
        }
        log.started = true
        yield* Effect.logDebug("Fake gateway session started").pipe(Effect.annotateLogs({
          connection: log.index,
          sessionId,
          subscriptions: log.subscriptions.map((x) => `${x.schema}:${x.start ?? "live"}`).join(",")
        }))

        const subs = log.subscriptions
        const starts = subs.map((s) => s.start).filter((s): s is bigint => s !== undefined)
        const start = starts.length === 0 ? undefined : starts.reduce((a, b) => (a < b ? a : b))
        const wanted = new Set(subs.flatMap((s) => RTYPES_OF[s.schema] ?? []))
        const schemas = [...new Set(subs.map((s) => s.schema))]
        const ts0 = yield* nowNs

        const head: Array<Uint8Array> = [liveMetadata(dataset, start ?? ts0)]
        for (const s of subs) {
          if (!s.isLast) continue
          for (const [id, raw] of symbols) {
            head.push(symbolMapping(ts0, id, STYPE_IDS[s.stypeIn] ?? 255, s.symbols[0] ?? raw, raw))
          }
        }
        for (const s of subs) {
          if (!s.isLast) continue
          const text = `Subscription request ${s.id ?? 0} for ${s.schema} data succeeded`
          head.push(systemMsg(ts0, text, SystemCode.SUBSCRIPTION_ACK))
        }
        if (faults.refuseReplay === true && start !== undefined) {
          const text = `Replay start ${start} is outside the available replay window`
          head.push(errorMsg(ts0, text, ErrorCode.INVALID_SUBSCRIPTION))
          yield* write(concat(head))
          log.fault = "replay refused"
          sock.end()
          return
        }
        yield* write(concat(head))

        /** Sends the books as the MBO records before `fromIndex` left them (scans the data from its start). */
        const sendSnapshot = (fromIndex: number) =>
          Effect.gen(function*() {
            const books = new SnapshotBooks()
            if (fromIndex > 0) {
              yield* source.blocks(0, undefined).pipe(
                Stream.takeWhile((block) => block.first < fromIndex),
                // A block is only valid until the next is pulled: applied at once.
                Stream.runForEach((block) =>
                  Effect.sync(() => books.applyRecords(block.bytes, fromIndex - block.first))
                )
              )
            }
            const snapshot = books.snapshot(yield* nowNs)
            log.snapshot = { at: fromIndex, records: snapshot.records }
            yield* write(snapshot.bytes)
          })

        const heartbeatEvery = options.heartbeat ??
          Duration.seconds(log.auth?.heartbeatIntervalS ?? 30)
        const heartbeat = Effect.flatMap(nowNs, (ts) => {
          log.heartbeatsSent++
          return write(systemMsg(ts, "Heartbeat", SystemCode.HEARTBEAT))
        })

        // Without `start` the connection joins "live": where the furthest connection got, plus records it missed.
        const fromIndex = start === undefined ? liveHead + (faults.skipOnLive ?? 0) : 0
        const caughtUpAt = liveHead
        // `snapshot=1` only counts without `start` (the real gateway refuses both; the client never sends both).
        if (start === undefined && subs.some((s) => s.schema === "mbo" && s.snapshot === true)) {
          yield* sendSnapshot(fromIndex)
        }
        let replayPending = start !== undefined
        const replayCompleted = Effect.suspend(() => {
          replayPending = false
          return Effect.flatMap(nowNs, (ts) =>
            write(concat(schemas.map((s) => systemMsg(ts, `Finished ${s} replay`, SystemCode.REPLAY_COMPLETED)))))
        })

        let sent = 0
        let pending: Array<Uint8Array> = []
        let pendingBytes = 0
        let pace: { wall: number; ts: bigint } | undefined
        const flush = Effect.suspend(() => {
          if (pendingBytes === 0) return Effect.void
          const out = concat(pending)
          pending = []
          pendingBytes = 0
          return write(out)
        })
        const faultAt = (n: number | undefined) => n !== undefined && sent === n
        let skipLeft = 0
        let skipped = false
        const clock = yield* Effect.clock
        const wantedType = new Uint8Array(256)
        for (const t of wanted) wantedType[t] = 1
        const faultCounts = [
          faults.dropAfterRecords,
          faults.closeAfterRecords,
          faults.errorAfterRecords?.records,
          faults.skipAfterRecords?.records,
          faults.stallAfterRecords,
          faults.corruptAfterRecords
        ].filter((n): n is number => n !== undefined)
        /** The next count of sent records at which a fault fires. */
        const nextFault = () => faultCounts.reduce((m, n) => (n >= sent && n < m ? n : m), Number.POSITIVE_INFINITY)

        /** Sends one record that needs more than sending: the replay's end, a fault, a fragment or a wait. */
        const sendOne = (rec: Uint8Array, index: number, ts: bigint): Effect.Effect<Ending | "sent"> =>
          Effect.gen(function*() {
            if (replayPending && index >= caughtUpAt && caughtUpAt > 0) {
              yield* flush
              yield* replayCompleted
            }
            if (faults.skipAfterRecords !== undefined && !skipped && sent === faults.skipAfterRecords.records) {
              skipped = true
              skipLeft = faults.skipAfterRecords.skip
              const text = `Skipped ${skipLeft} records from slow reading`
              pending.push(errorMsg(yield* nowNs, text, ErrorCode.SKIPPED_RECORDS_AFTER_SLOW_READING))
              pendingBytes++
              log.fault = "records skipped"
            }
            if (skipLeft > 0) {
              skipLeft--
              if (index + 1 > liveHead) liveHead = index + 1
              return "sent" as const
            }
            if (faultAt(faults.dropAfterRecords)) {
              yield* flush
              log.fault = "dropped"
              sock.resetAndDestroy()
              return "dropped" as const
            }
            if (faultAt(faults.closeAfterRecords)) {
              yield* flush
              log.fault = "closed"
              sock.end()
              return "closed" as const
            }
            if (faults.errorAfterRecords !== undefined && sent === faults.errorAfterRecords.records) {
              pending.push(errorMsg(yield* nowNs, faults.errorAfterRecords.text, faults.errorAfterRecords.code))
              pendingBytes++
              yield* flush
              log.fault = "gateway error"
              sock.end()
              return "closed" as const
            }
            if (faultAt(faults.stallAfterRecords)) {
              yield* flush
              log.fault = "stalled"
              return "stalled" as const
            }
            if (faultAt(faults.corruptAfterRecords)) {
              log.fault = "corrupted"
              pending.push(CORRUPT)
              pendingBytes += CORRUPT.length
              yield* flush
            }
            if (speed > 0) {
              const now = yield* Clock.currentTimeMillis
              pace ??= { wall: now, ts }
              const due = pace.wall + Number(ts - pace.ts) / 1e6 / speed
              if (due > now) {
                yield* flush
                yield* idle(due - now, heartbeatEvery, heartbeat)
              }
            }
            pending.push(rec)
            pendingBytes += rec.length
            sent++
            log.recordsSent = sent
            log.firstRecord ??= index
            if (index + 1 > liveHead) liveHead = index + 1
            if (fragmentLeft > 0) {
              yield* flush
              fragmentLeft--
            } else if (pendingBytes >= chunkBytes) yield* flush
            return "sent" as const
          })

        const sendBlock = (block: Block): Effect.Effect<Ending> =>
          Effect.gen(function*() {
            const bytes = block.bytes
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
            let index = block.first
            let off = 0
            while (off < bytes.length) {
              // Records that need nothing but sending go out as views of the block, up to `chunkBytes` per write:
              // no allocation, copy or effect per record.
              const stop = nextFault()
              let run = off
              let special = false
              while (off < bytes.length) {
                const len = bytes[off]! * 4
                if (wantedType[bytes[off + 1]!] === 0) {
                  if (off > run) {
                    pending.push(bytes.subarray(run, off))
                    pendingBytes += off - run
                  }
                  off += len
                  index++
                  run = off
                  continue
                }
                if (sent === stop || fragmentLeft > 0 || (replayPending && caughtUpAt > 0 && index >= caughtUpAt)) {
                  special = true
                  break
                }
                if (speed > 0) {
                  const ts = view.getBigUint64(off + 8, true)
                  const now = clock.unsafeCurrentTimeMillis()
                  pace ??= { wall: now, ts }
                  if (pace.wall + Number(ts - pace.ts) / 1e6 / speed > now) {
                    special = true
                    break
                  }
                }
                log.firstRecord ??= index
                off += len
                sent++
                index++
                if (index > liveHead) liveHead = index
                if (pendingBytes + off - run >= chunkBytes) break
              }
              if (off > run) {
                pending.push(bytes.subarray(run, off))
                pendingBytes += off - run
              }
              log.recordsSent = sent
              if (pendingBytes >= chunkBytes) yield* flush
              if (!special) continue
              const len = bytes[off]! * 4
              const ended = yield* sendOne(bytes.subarray(off, off + len), index, view.getBigUint64(off + 8, true))
              if (ended !== "sent") return ended
              off += len
              index++
            }
            // The block's bytes may be refilled once the next block is pulled: nothing of it stays pending.
            yield* flush
            return undefined
          })

        const ending: Ending = yield* source.blocks(fromIndex, start).pipe(
          Stream.runFoldWhileEffect(undefined as Ending, (e) => e === undefined, (_, block) => sendBlock(block))
        )
        if (ending === "dropped" || ending === "closed") return
        if (ending === "stalled") return yield* Effect.never
        yield* flush
        if (replayPending) yield* replayCompleted
        // Caught up: a live gateway now only sends heartbeats until there is news.
        while (true) yield* idle(Duration.toMillis(heartbeatEvery), heartbeatEvery, heartbeat)
      })

    const server = Net.createServer((sock) => {
      const log: ConnectionLog = {
        index: logs.length,
        sessionId: undefined,
        auth: undefined,
        authenticated: false,
        subscriptions: [],
        started: false,
        firstRecord: undefined,
        recordsSent: 0,
        snapshot: undefined,
        heartbeatsSent: 0,
        fault: undefined,
        closed: false
      }
      logs.push(log)
      sockets.add(sock)
      sock.setNoDelay(true)
      sock.on("error", () => {})
      const fiber = runFork(handle(sock, log).pipe(Effect.ensuring(Effect.sync(() => {
        if (!sock.destroyed && sock.writable) sock.end()
      }))))
      sock.on("close", () => {
        log.closed = true
        sockets.delete(sock)
        fiber.unsafeInterruptAsFork(fiber.id())
      })
    })

    const port = yield* Effect.async<number, FakeGatewayError>((resume) => {
      server.once("error", (e) => resume(Effect.fail(new FakeGatewayError({ reason: "Listen", detail: e.message }))))
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        const a = server.address()
        resume(Effect.succeed(typeof a === "object" && a !== null ? a.port : 0))
      })
    })

    const close = Effect.async<void>((resume) => {
      for (const s of sockets) s.destroy()
      if (!server.listening) return resume(Effect.void)
      server.close(() => resume(Effect.void))
    })
    yield* Effect.addFinalizer(() => close)

    return {
      host: options.host ?? "127.0.0.1",
      port,
      connections: () => logs,
      liveHead: () => liveHead,
      close
    }
  })

/**
 * For the `gateway` command: serves until interrupted (SIGINT closes the listener and every connection),
 * logging where it listens. E.g. `runForever({ apiKey, data: file(path), port: 13000, speed: 1 })`.
 */
export const runForever = (options: FakeGatewayOptions): Effect.Effect<never, FakeGatewayError> =>
  Effect.scoped(Effect.gen(function*() {
    const gw = yield* serve(options)
    yield* Effect.logInfo("Fake gateway listening").pipe(Effect.annotateLogs({
      host: gw.host,
      port: gw.port,
      data: options.data._tag === "File" ? options.data.path : `${options.data.bytes.length} bytes of records`
    }))
    return yield* Effect.never
  }))

/** Waits `ms`, sending a heartbeat whenever a full interval passes without anything else sent. */
const idle = (ms: number, every: Duration.Duration, heartbeat: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const step = Duration.toMillis(every)
    let left = ms
    while (left >= step) {
      yield* Effect.sleep(every)
      yield* heartbeat
      left -= step
    }
    if (left > 0) yield* Effect.sleep(Duration.millis(left))
  })

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => (parts.length === 1 ? parts[0]! : concatBytes(parts))
