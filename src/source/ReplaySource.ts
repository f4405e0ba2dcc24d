/**
 * Replay of DBN files (`.dbn`, `.dbn.zst`, or folders of daily files) as a `MarketDataSource`:
 * one file streams straight through the decoder; several are merged in ts_event order. Either as
 * fast as possible or paced by event time × speed (on the Effect `Clock`, so tests drive it).
 */
import { FileSystem } from "@effect/platform"
import * as PlatformError from "@effect/platform/Error"
import { Chunk, Clock, Context, Duration, Effect, ExecutionStrategy, Exit, Layer, Option, Scope, Stream } from "effect"
import * as NodeFs from "node:fs"
import type { DecodedChunk } from "../dbn/Batch.js"
import * as Cursor from "./Cursor.js"
import * as Decode from "./Decode.js"
import { MarketDataSource, SourceError } from "./MarketDataSource.js"
import { ChunkMerger } from "./Merge.js"

export class ReplayConfig extends Context.Tag("ifd/source/ReplayConfig")<ReplayConfig, {
  /** Files or folders, in any order. */
  readonly paths: ReadonlyArray<string>
  /** 0 = as fast as possible; otherwise event time runs `speed` times faster than wall time. */
  readonly speed: number
  /** Bytes read per file chunk (one decoded batch per chunk). */
  readonly chunkSize: number
}>() {}

export const defaults = { speed: 0, chunkSize: 1 << 20 }

const DBN_FILE = /\.dbn(\.zst)?$/

/** Expands folders into their DBN files (sorted by name, which for daily files is date order). */
export const expandPaths = (paths: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files: Array<string> = []
    for (const p of paths) {
      const info = yield* fs.stat(p).pipe(
        Effect.mapError(() => new SourceError({ reason: "NotFound", detail: "no such file or folder", path: p }))
      )
      if (info.type === "Directory") {
        const entries = yield* fs.readDirectory(p).pipe(
          Effect.mapError((e) => new SourceError({ reason: "Read", detail: e.message, path: p }))
        )
        const dbn = entries.filter((e) => DBN_FILE.test(e)).sort()
        if (dbn.length === 0) {
          return yield* new SourceError({ reason: "NotFound", detail: "folder holds no .dbn or .dbn.zst files", path: p })
        }
        for (const e of dbn) files.push(`${p.replace(/\/+$/, "")}/${e}`)
      } else {
        files.push(p)
      }
    }
    return files
  })

/**
 * The bytes of one file in `chunkSize` pieces. Plain DBN is read into one buffer, refilled for every piece: the
 * decoder consumes each piece before it asks for the next (copying any record split across two). Zstandard input
 * (detected by its magic, as the decoder does) gets a fresh copy of each piece instead, as the decompressor may
 * hold on to it.
 *
 * The file is opened through `FileSystem` (scoped, with its typed errors) but read with a synchronous `read` on its
 * descriptor: the pipeline does nothing else while it waits for the next piece, and a read from the page cache takes
 * far less than the round trip through libuv's thread pool, which on a busy machine left the process idle for a
 * large share of a replay. (Reading ahead into a second buffer with a forked read was tried too: it cost more CPU and
 * memory than the overlap saved.)
 */
export const fileBytes = (path: string, chunkSize: number) =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = yield* fs.open(path)
    const buffer = new Uint8Array(chunkSize)
    const next: Effect.Effect<Uint8Array, Option.Option<PlatformError.PlatformError>> = Effect.suspend(() => {
      let size: number
      try {
        size = NodeFs.readSync(file.fd, buffer, 0, buffer.length, null)
      } catch (cause) {
        return Effect.fail(Option.some(
          new PlatformError.SystemError({
            reason: "Unknown",
            module: "FileSystem",
            method: "read",
            pathOrDescriptor: path,
            description: cause instanceof Error ? cause.message : String(cause),
            cause
          })
        ))
      }
      if (size === 0) return Effect.fail(Option.none())
      // The same buffer serves every read: the decode channel is done with a piece (the zstd decoder included: it
      // keeps no reference to its input) before the next read.
      return Effect.succeed(buffer.subarray(0, size))
    })
    return Stream.repeatEffectOption(next)
  }))

/** Decoded chunks of one file, read in `chunkSize` pieces and never loaded whole; their batches are recyclable. */
export const fileStream = (path: string, chunkSize: number) =>
  Decode.decodeStream(fileBytes(path, chunkSize), { recycle: true }).pipe(
    Stream.mapError((e) =>
      e._tag === "DbnError"
        ? new SourceError({ reason: "Decode", detail: e.message, offset: e.offset, path })
        : new SourceError({
          reason: e._tag === "SystemError" && e.reason === "NotFound" ? "NotFound" : "Read",
          detail: e.message,
          path
        })
    )
  )

/**
 * Merges several chunk streams into one in ts_event order. With `starts` (each stream's first ts_event, or undefined
 * when unknown), a stream is opened only when the merge reaches its first record, and every stream is closed (its
 * file and buffers released) as soon as it ends: a folder of daily files holds one day's file at a time.
 */
export const merge = <E, R>(
  streams: ReadonlyArray<Stream.Stream<DecodedChunk, E, R>>,
  starts?: ReadonlyArray<bigint | undefined>
): Stream.Stream<DecodedChunk, E, R> => {
  if (streams.length === 1) return streams[0]!
  return Stream.unwrapScoped(Effect.gen(function*() {
    const scope = yield* Effect.scope
    type Pull = Effect.Effect<Chunk.Chunk<DecodedChunk>, Option.Option<E>, R>
    const pulls: Array<{ readonly pull: Pull; readonly scope: Scope.CloseableScope } | undefined> = streams.map(() => undefined)
    const merger = new ChunkMerger(streams.length, undefined, starts)
    // A pull yields several decoded chunks at once: they wait here until the merger needs them.
    const queued: Array<Array<DecodedChunk>> = streams.map(() => [])
    const open = (i: number) =>
      Effect.gen(function*() {
        const own = yield* Scope.fork(scope, ExecutionStrategy.sequential)
        const pull = yield* Scope.extend(Stream.toPull(streams[i]!), own)
        return (pulls[i] = { pull, scope: own })
      })
    const ended = (i: number) =>
      Effect.suspend(() => {
        const p = pulls[i]
        pulls[i] = undefined
        merger.feed(i, undefined)
        return p === undefined ? Effect.void : Scope.close(p.scope, Exit.void)
      })
    const refill = (i: number): Effect.Effect<void, Option.Option<E>, R> => {
      const queue = queued[i]!
      if (queue.length > 0) return Effect.sync(() => merger.feed(i, queue.shift()))
      return Effect.flatMap(Effect.suspend(() => pulls[i] === undefined ? open(i) : Effect.succeed(pulls[i]!)), (p) =>
        Effect.matchEffect(p.pull, {
          onFailure: (e) => Option.isNone(e) ? ended(i) : Effect.fail(e),
          onSuccess: (chunks) => Effect.sync(() => queue.push(...chunks))
        }))
    }
    const next: Effect.Effect<DecodedChunk, Option.Option<E>, R> = Effect.suspend(() => {
      const i = merger.needs()
      if (i >= 0) return Effect.zipRight(refill(i), next)
      const out = merger.take()
      if (out !== undefined) return Effect.succeed(out)
      return merger.finished ? Effect.fail(Option.none()) : next
    })
    return Stream.repeatEffectOption(next)
  }))
}

/** Stream order's first record of a chunk: an MBO row, or one of `others` placed before it. */
const firstTsOf = (c: DecodedChunk): bigint | undefined => {
  if (c.others.length > 0 && (c.othersAt[0]! === 0 || c.mbo.length === 0)) return c.others[0]!.hd.ts_event
  if (c.mbo.length > 0) return (BigInt(c.mbo.tsEventHi[0]!) << 32n) | BigInt(c.mbo.tsEventLo[0]!)
  return undefined
}

/** Bytes read to find a file's first record: the metadata and a few records fit, zstd frames included. */
const PROBE_BYTES = 64 * 1024

/**
 * The ts_event of a file's first record (undefined for a file without records), read from its start: what lets
 * `merge` leave the file closed until the merge gets there. Read errors are left to the file's own stream.
 */
export const firstRecordTs = (path: string) =>
  fileStream(path, PROBE_BYTES).pipe(
    Stream.map(firstTsOf),
    Stream.filter((t): t is bigint => t !== undefined),
    Stream.runHead,
    Effect.map(Option.getOrUndefined),
    Effect.orElseSucceed(() => undefined)
  )

/** The files' chunks merged in ts_event order, each file opened when the merge reaches its first record. */
export const mergeFiles = (files: ReadonlyArray<string>, chunkSize: number) =>
  files.length === 1
    ? fileStream(files[0]!, chunkSize)
    : Stream.unwrap(Effect.map(
      Effect.forEach(files, firstRecordTs),
      (starts) => merge(files.map((f) => fileStream(f, chunkSize)), starts)
    ))

/** Paces chunks by event time: the last record of each chunk is released when its time comes at `speed`×. */
export const pace = (speed: number) => <E, R>(stream: Stream.Stream<DecodedChunk, E, R>): Stream.Stream<DecodedChunk, E, R> =>
  speed <= 0 ? stream : Stream.unwrap(Effect.sync(() => {
    let t0Event = -1
    let t0Wall = 0
    return stream.pipe(Stream.tap((chunk) =>
      Effect.gen(function*() {
        const n = chunk.mbo.length
        if (n === 0) return
        const lastMs = chunk.mbo.tsEventHi[n - 1]! * 4294.967296 + chunk.mbo.tsEventLo[n - 1]! / 1e6
        const now = yield* Clock.currentTimeMillis
        if (t0Event < 0) {
          t0Event = chunk.mbo.tsEventHi[0]! * 4294.967296 + chunk.mbo.tsEventLo[0]! / 1e6
          t0Wall = now
        }
        const due = t0Wall + (lastMs - t0Event) / speed
        if (due > now) yield* Effect.sleep(Duration.millis(due - now))
      })
    ))
  }))

export const make = Effect.gen(function*() {
  const config = yield* ReplayConfig
  const fs = yield* FileSystem.FileSystem
  const stream = (from: Cursor.Cursor | undefined) =>
    Stream.unwrap(Effect.gen(function*() {
      const files = yield* expandPaths(config.paths)
      const merged = mergeFiles(files, config.chunkSize)
      const skipped = from === undefined ? merged : Stream.suspend(() => {
        const skipper = new Cursor.Skipper(from)
        return merged.pipe(Stream.map((c) => skipper.apply(c)))
      })
      return skipped.pipe(pace(config.speed))
    })).pipe(Stream.provideService(FileSystem.FileSystem, fs))
  return MarketDataSource.of({ name: "replay", stream })
})

export const layer = Layer.effect(MarketDataSource, make)

export const layerFiles = (paths: ReadonlyArray<string>, options: Partial<typeof defaults> = {}) =>
  layer.pipe(Layer.provide(Layer.succeed(ReplayConfig, { paths, ...defaults, ...options })))
