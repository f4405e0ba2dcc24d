/**
 * Drives the pure DBN decoder from a byte stream: bytes chunks in (any split, plain or zstd), one
 * `DecodedChunk` out per input chunk. Framing errors fail the stream with a typed `DbnError` after
 * everything decoded before them; per-chunk problems are logged and the stream goes on.
 * shared/spec/databento.md §2, STYLE.md "The hot path".
 */
import { type Cause, Channel, Chunk, Effect, Schema, Stream } from "effect"
import type { DecodedChunk, DbnProblem } from "../dbn/Batch.js"
import { DbnDecoder } from "../dbn/Decoder.js"
import * as Zstd from "../dbn/Zstd.js"

export class DbnError extends Schema.TaggedError<DbnError>()("DbnError", {
  reason: Schema.Literal(
    "BadMagic",
    "UnsupportedVersion",
    "MetadataTooLarge",
    "MetadataInvalid",
    "RecordLength",
    "Truncated",
    "Malformed",
    "Zstd"
  ),
  /** Absolute byte offset in the decompressed stream. */
  offset: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.reason} at byte ${this.offset}: ${this.detail}`
  }
}

export const fromProblem = (p: DbnProblem): DbnError => new DbnError({ reason: p.reason, offset: p.offset, detail: p.detail })

export interface DecodeOptions {
  /** For record-only fragments (no metadata): the DBN version and ts_out flag known out of band. */
  readonly fragment?: { readonly version: 1 | 2 | 3; readonly tsOut?: boolean }
  /**
   * Give every chunk with MBO rows a `release` that hands its batch back to the decoder (see `DecodedChunk.release`),
   * so a consumer that calls it keeps refilling the same few batches instead of allocating one per chunk.
   */
  readonly recycle?: boolean
}

/** The decoder drains right after each push, so the zstd output arrays can be written over at the next one. */
const REUSE: Zstd.ZstdOptions = { reuseOutput: true }

/** Plain or zstd-compressed DBN bytes → decoded chunks, detecting zstd by its magic number. */
export const decode = <IE = never>(
  options: DecodeOptions = {}
): Channel.Channel<Chunk.Chunk<DecodedChunk>, Chunk.Chunk<Uint8Array>, DbnError | IE, IE, void, unknown> =>
  Channel.suspend(() => {
    const decoder = new DbnDecoder(options.fragment === undefined ? {} : { fragment: options.fragment })
    let zstd: Zstd.ZstdDecompressor | undefined
    let sniffed = false
    let head: Uint8Array | undefined

    const feed = (bytes: Uint8Array): DbnProblem | undefined => {
      if (zstd === undefined) {
        decoder.push(bytes)
        return undefined
      }
      const r = zstd.push(bytes)
      for (const out of r.chunks) decoder.push(out)
      return r.problem
    }

    const emit = (
      outputs: Array<DecodedChunk>,
      fatal: DbnProblem | undefined
    ): Channel.Channel<Chunk.Chunk<DecodedChunk>, unknown, DbnError, unknown, void, unknown> => {
      const write = outputs.length === 0 ? Channel.void : Channel.write(Chunk.unsafeFromArray(outputs))
      return fatal === undefined ? write : Channel.zipRight(write, Channel.fail(fromProblem(fatal)))
    }

    const recycle = options.recycle === true
    const releasable = (out: DecodedChunk): DecodedChunk => {
      let held = true
      return {
        ...out,
        release: out.mbo.length === 0 ? undefined : () => {
          if (!held) return
          held = false
          decoder.recycle(out.mbo)
        }
      }
    }

    const drainOnce = (outputs: Array<DecodedChunk>): DbnProblem | undefined => {
      const out = decoder.drain()
      if (out.mbo.length > 0 || out.others.length > 0 || out.metadata !== undefined || out.fatal !== undefined) {
        // Every chunk of a recycling stream has the same shape (`release` undefined when there are no rows).
        outputs.push(recycle ? releasable(out) : out)
      }
      return out.fatal
    }

    const loop: Channel.Channel<Chunk.Chunk<DecodedChunk>, Chunk.Chunk<Uint8Array>, DbnError | IE, IE, void, unknown> =
      Channel.readWithCause({
        onInput: (input: Chunk.Chunk<Uint8Array>) => {
          const outputs: Array<DecodedChunk> = []
          for (let bytes of input) {
            if (!sniffed) {
              // The zstd magic needs 4 bytes; a stream may arrive one byte at a time.
              if (head !== undefined) {
                const joined = new Uint8Array(head.length + bytes.length)
                joined.set(head)
                joined.set(bytes, head.length)
                bytes = joined
                head = undefined
              }
              if (bytes.length < 4) {
                // A copy: the source may refill its read buffer before the next input arrives.
                head = bytes.slice()
                continue
              }
              sniffed = true
              if (Zstd.isZstd(bytes)) zstd = new Zstd.ZstdDecompressor(REUSE)
            }
            const zProblem = feed(bytes)
            const fatal = drainOnce(outputs) ?? zProblem
            if (fatal !== undefined) return emit(outputs, fatal)
          }
          return Channel.zipRight(emit(outputs, undefined), loop)
        },
        onFailure: (cause: Cause.Cause<IE>) => Channel.failCause(cause),
        onDone: () => {
          const outputs: Array<DecodedChunk> = []
          if (head !== undefined) {
            sniffed = true
            if (Zstd.isZstd(head)) zstd = new Zstd.ZstdDecompressor(REUSE)
            const zProblem = feed(head)
            const fatal = drainOnce(outputs) ?? zProblem
            if (fatal !== undefined) return emit(outputs, fatal)
          }
          if (zstd !== undefined) {
            const r = zstd.finish()
            for (const out of r.chunks) decoder.push(out)
            const fatal = drainOnce(outputs) ?? r.problem
            if (fatal !== undefined) return emit(outputs, fatal)
          }
          return emit(outputs, decoder.finish())
        }
      })
    // However the stream ends (its end, a failure, or a consumer that stops early), the zstd decoder goes back to
    // the pool for the next file.
    return Channel.ensuring(loop, Effect.sync(() => zstd?.release()))
  })

/** Decodes a byte stream, logging one warning per chunk that had skipped or malformed records. */
export const decodeStream = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  options: DecodeOptions = {}
): Stream.Stream<DecodedChunk, E | DbnError, R> =>
  bytes.pipe(
    Stream.pipeThroughChannelOrFail(decode<E>(options)),
    Stream.tap((chunk) =>
      chunk.problems.length === 0 && chunk.skippedUnknown === 0 && chunk.skippedMalformed === 0
        ? Effect.void
        : Effect.logWarning("DBN records skipped").pipe(
          Effect.annotateLogs({
            unknown: chunk.skippedUnknown,
            malformed: chunk.skippedMalformed,
            first: chunk.problems.length > 0 ? fromProblem(chunk.problems[0]!).message : "unknown rtype"
          })
        )
    )
  )
