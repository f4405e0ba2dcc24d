/**
 * Streaming zstd decompression for `.dbn.zst` files and `compression=zstd` live sessions: compressed chunks in,
 * decompressed chunks out, never the whole stream in memory. shared/spec/databento.md §2.6.
 * Frames are delimited here (window sizes checked before the decoder allocates a window, skippable frames dropped,
 * exact frame counts and offsets for problems); libzstd's streaming decoder (zstd-napi, a Node-API binding) decodes
 * the blocks and checks each frame's checksum, at 4–5× the speed of a decoder in JavaScript.
 */
import zstd from "zstd-napi/binding.js"
import type { DbnProblem } from "./Batch.js"
import { concatBytes } from "./Bytes.js"

/** True when `b` starts with the zstd frame magic 28 B5 2F FD. */
export const isZstd = (b: Uint8Array): boolean =>
  b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd

export interface ZstdOutput {
  /** Decompressed bytes, in order: fresh arrays, safe to keep, unless `reuseOutput` was asked for. */
  readonly chunks: ReadonlyArray<Uint8Array>
  /** Set once the compressed stream is found corrupt; the decompressor then stops. */
  readonly problem: DbnProblem | undefined
}

export interface ZstdOptions {
  /** Largest frame window accepted, bytes (default 128 MiB, zstd's own default limit). */
  readonly maxWindow?: number
  /**
   * Output chunks stay valid only until the next `push` or `finish`, which write over the same arrays. For a
   * consumer that is done with them by then (the DBN decoder drains after each push): a replay of a compressed file
   * then allocates no output arrays after the first ones, where fresh ones piled up tens of MB of garbage.
   */
  readonly reuseOutput?: boolean
}

const MAGIC = 0xfd2fb528
/** Block_Maximum_Size of the zstd format. */
const MAX_BLOCK = 128 * 1024

const S_MAGIC = 0
const S_SKIP_SIZE = 1
const S_SKIP = 2
const S_FHD = 3
const S_HEADER = 4
const S_BLOCK_HEADER = 5
const S_BLOCK = 6
const S_CHECKSUM = 7

const NO_CHUNKS: ReadonlyArray<Uint8Array> = []
const MAGIC_BYTES = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])

/**
 * Decoders of ended streams, for the next ones: a new decoder spends ~12 ms here on fresh memory for its window
 * before its first output (a folder of daily files opens one per file). Each frame starts with a reset.
 */
const idle: Array<InstanceType<typeof zstd.DCtx>> = []
const MAX_IDLE = 4

/** Decoders waiting in the pool (tests and reports). */
export const pooledDecoders = (): number => idle.length

/** Decompressed bytes are written into arrays of this size and handed out as views of them. */
const OUT_CHUNK = 1 << 20

/**
 * Compressed chunks in (split anywhere), decompressed chunks out. Memory: the decoder's window (at most
 * `maxWindow`, checked here from the frame header before the decoder sees the frame) and the output arrays: one
 * being filled, or with `reuseOutput` the few that one push fills, written over at the next.
 */
export class ZstdDecompressor {
  private readonly maxWindow: number
  private state = S_MAGIC
  /** Bytes still needed by a fixed-size header state, or left to pass in a counted state. */
  private need = 4
  private readonly scratch = new Uint8Array(16)
  private have = 0
  private fhd = 0
  private lastBlock = false
  /** libzstd's decoder, reset at each frame; `inFrame` while a frame's bytes are being fed to it. */
  private readonly dctx = idle.pop() ?? new zstd.DCtx()
  /** Set by `release` (which `finish` calls): the decoder belongs to the pool again. */
  private released = false
  private inFrame = false
  /**
   * The frame's magic is still to be fed: it goes in with the frame's next bytes, so a frame refused by its header
   * costs no output array.
   */
  private magicDue = false
  /** What the last decode call returned: 0 once a frame is complete and flushed. */
  private pending = 0
  private dst: Uint8Array | undefined = undefined
  private used = 0
  private readonly reuse: boolean
  /** With `reuse`: the output arrays, filled in order from the first at each push; `at` is the one being filled. */
  private readonly arrays: Array<Uint8Array> = []
  private at = 0
  private out: Array<Uint8Array> = []
  private dead: DbnProblem | undefined = undefined
  private bytesIn = 0
  private bytesOut = 0
  private frames = 0

  constructor(options: ZstdOptions = {}) {
    this.maxWindow = options.maxWindow ?? 128 * 1024 * 1024
    this.reuse = options.reuseOutput === true
  }

  /** Compressed bytes consumed so far. */
  get compressedOffset(): number {
    return this.bytesIn
  }

  /** Decompressed bytes produced so far. */
  get decompressedOffset(): number {
    return this.bytesOut
  }

  /** zstd frames completed so far. */
  get frameCount(): number {
    return this.frames
  }

  push(bytes: Uint8Array): ZstdOutput {
    if (this.released && this.dead === undefined) this.fail("bytes pushed after the end of the stream")
    if (this.dead !== undefined) return { chunks: NO_CHUNKS, problem: this.dead }
    this.out = []
    this.rewind()
    try {
      this.scan(bytes)
    } catch (e) {
      // libzstd reports corrupt blocks and wrong checksums by throwing; this is the one place that is caught.
      this.fail(`${e instanceof Error ? e.message : String(e)}`)
    }
    return this.result()
  }

  /**
   * End of the compressed stream: a problem if it stops inside a frame. The decoder goes back to the pool
   * (`release`), so nothing may be pushed after this.
   */
  finish(): ZstdOutput {
    this.release()
    if (this.dead !== undefined) return { chunks: NO_CHUNKS, problem: this.dead }
    this.out = []
    if (!(this.state === S_MAGIC && this.have === 0)) {
      this.fail("compressed stream ends inside a frame")
    }
    return this.result()
  }

  /**
   * Hands the decoder to the pool for the next stream; nothing may be pushed after this. `finish` does it; a stream
   * that ends otherwise (interrupted, or only its start read, as the merge's probes do) calls it itself.
   */
  release(): void {
    if (this.released) return
    this.released = true
    if (idle.length < MAX_IDLE) idle.push(this.dctx)
  }

  /** With `reuse`, the chunks handed out last time are done with: fill the arrays again from the first. */
  private rewind(): void {
    if (!this.reuse || this.arrays.length === 0) return
    this.at = 0
    this.dst = this.arrays[0]
    this.used = 0
  }

  /** The array to write the next output into, once `dst` is full (or at the start). */
  private nextArray(): Uint8Array {
    if (!this.reuse) return new Uint8Array(OUT_CHUNK)
    if (this.dst !== undefined) this.at++
    let a = this.arrays[this.at]
    if (a === undefined) this.arrays.push(a = new Uint8Array(OUT_CHUNK))
    return a
  }

  private result(): ZstdOutput {
    const chunks = this.out
    this.out = []
    return { chunks: chunks.length === 0 ? NO_CHUNKS : chunks, problem: this.dead }
  }

  private fail(detail: string): void {
    if (this.dead !== undefined) return
    this.dead = {
      reason: "Zstd",
      offset: this.bytesOut,
      detail: `${detail} (compressed byte ${this.bytesIn}, frame ${this.frames})`
    }
    this.inFrame = false
  }

  /** Feeds bytes of the current frame to the decoder and collects what it writes. */
  private feed(src: Uint8Array): void {
    if (this.magicDue) {
      this.magicDue = false
      this.feed(MAGIC_BYTES)
    }
    let input = src
    for (;;) {
      let dst = this.dst
      if (dst === undefined || this.used === dst.length) {
        this.dst = dst = this.nextArray()
        this.used = 0
      }
      const room = dst.length - this.used
      const [pending, produced, consumed] = this.dctx.decompressStream(dst.subarray(this.used), input)
      this.pending = pending
      if (produced > 0) {
        this.out.push(dst.subarray(this.used, this.used + produced))
        this.used += produced
        this.bytesOut += produced
      }
      input = input.subarray(consumed)
      // A full output array may leave decoded bytes inside the decoder: call again until it writes less.
      if (input.length === 0 && produced < room) return
    }
  }

  private scan(b: Uint8Array): void {
    const n = b.length
    let i = 0
    // Start in `b` of the current frame's bytes not yet handed to the decoder; -1 outside a frame.
    let seg = this.inFrame ? 0 : -1
    while (i < n && this.dead === undefined) {
      const state = this.state
      if (state === S_SKIP || state === S_BLOCK || state === S_CHECKSUM) {
        const take = Math.min(this.need, n - i)
        i += take
        this.bytesIn += take
        this.need -= take
        if (this.need > 0) break
        if (state === S_SKIP) this.expect(S_MAGIC, 4)
        else if (state === S_BLOCK && !this.lastBlock) this.expect(S_BLOCK_HEADER, 3)
        else if (state === S_BLOCK && (this.fhd & 4) !== 0) this.expect(S_CHECKSUM, 4)
        else {
          this.feed(b.subarray(seg, i))
          this.endFrame()
          seg = -1
        }
        continue
      }
      const take = Math.min(this.need - this.have, n - i)
      this.scratch.set(b.subarray(i, i + take), this.have)
      this.have += take
      i += take
      this.bytesIn += take
      if (this.have < this.need) break
      const s = this.scratch
      switch (state) {
        case S_MAGIC: {
          const magic = (s[0]! | (s[1]! << 8) | (s[2]! << 16) | (s[3]! << 24)) >>> 0
          if (magic === MAGIC) {
            this.dctx.reset(zstd.ResetDirective.sessionOnly)
            this.inFrame = true
            this.magicDue = true
            seg = i
            this.expect(S_FHD, 1)
          } else if ((magic & 0xfffffff0) === 0x184d2a50) {
            this.expect(S_SKIP_SIZE, 4)
          } else {
            this.fail(`not a zstd frame (magic 0x${magic.toString(16)})`)
          }
          break
        }
        case S_SKIP_SIZE: {
          const size = (s[0]! | (s[1]! << 8) | (s[2]! << 16) | (s[3]! << 24)) >>> 0
          if (size === 0) this.expect(S_MAGIC, 4)
          else this.expect(S_SKIP, size)
          break
        }
        case S_FHD: {
          const fhd = s[0]!
          if ((fhd & 8) !== 0) {
            this.fail("reserved bit set in the frame header")
            break
          }
          if ((fhd & 3) !== 0) {
            this.fail("zstd dictionaries are not supported")
            break
          }
          this.fhd = fhd
          const single = (fhd & 0x20) !== 0
          const fcf = fhd >> 6
          const rest = (single ? 0 : 1) + (fcf === 0 ? (single ? 1 : 0) : 1 << fcf)
          if (rest === 0) this.expect(S_BLOCK_HEADER, 3)
          else this.expect(S_HEADER, rest)
          break
        }
        case S_HEADER: {
          const single = (this.fhd & 0x20) !== 0
          let window: number
          if (single) {
            const fcf = this.fhd >> 6
            const size = fcf === 0 ? 1 : 1 << fcf
            window = 0
            for (let k = size - 1; k >= 0; k--) window = window * 256 + s[k]!
            if (fcf === 1) window += 256
          } else {
            const wd = s[0]!
            const base = 2 ** (10 + (wd >> 3))
            window = base + (base / 8) * (wd & 7)
          }
          if (window > this.maxWindow) {
            this.fail(`frame window ${window} bytes exceeds the ${this.maxWindow}-byte limit`)
            break
          }
          this.expect(S_BLOCK_HEADER, 3)
          break
        }
        case S_BLOCK_HEADER: {
          const h = s[0]! | (s[1]! << 8) | (s[2]! << 16)
          this.lastBlock = (h & 1) !== 0
          const type = (h >> 1) & 3
          const size = h >>> 3
          if (type === 3) {
            this.fail("reserved block type")
            break
          }
          if (size > MAX_BLOCK) {
            this.fail(`block of ${size} bytes exceeds the ${MAX_BLOCK}-byte maximum`)
            break
          }
          const content = type === 1 ? 1 : size
          if (content > 0) this.expect(S_BLOCK, content)
          else if (!this.lastBlock) this.expect(S_BLOCK_HEADER, 3)
          else if ((this.fhd & 4) !== 0) this.expect(S_CHECKSUM, 4)
          else {
            this.feed(b.subarray(seg, i))
            this.endFrame()
            seg = -1
          }
          break
        }
      }
    }
    if (seg >= 0 && i > seg && this.inFrame && this.dead === undefined) this.feed(b.subarray(seg, i))
  }

  /**
   * Moves to `state` needing `bytes`: header states collect them in `scratch`; counted states (block content,
   * checksum, skippable frame) let them pass without copying.
   */
  private expect(state: number, bytes: number): void {
    this.state = state
    this.need = bytes
    this.have = 0
  }

  private endFrame(): void {
    // The frame's last byte went in: the decoder must agree that the frame is complete.
    if (this.pending !== 0) {
      this.fail("the decoder found the frame incomplete at its last block")
      return
    }
    this.inFrame = false
    this.frames++
    this.expect(S_MAGIC, 4)
  }
}

/**
 * Streaming compression into zstd frames as Databento writes `.dbn.zst` (one frame, content checksum on): bytes in,
 * compressed chunks out (fresh arrays), for tools that write DBN files (the simulator).
 */
export class ZstdCompressor {
  private readonly cctx = new zstd.CCtx()
  private done = false
  /**
   * Compressed bytes are written into this array from `used` on and handed out as views of it; a new one replaces
   * it once it is full (most calls produce nothing while libzstd fills a block, so none is allocated per call).
   */
  private dst = new Uint8Array(COMPRESSED_CHUNK)
  private used = 0

  /** `level`: zstd's compression level (3, the zstd tool's default, unless given). */
  constructor(level = 3) {
    this.cctx.setParameter(zstd.CParameter.compressionLevel, level)
    this.cctx.setParameter(zstd.CParameter.checksumFlag, 1)
  }

  push(bytes: Uint8Array): Array<Uint8Array> {
    if (this.done) throw new Error("ZstdCompressor: bytes pushed after finish")
    return this.run(bytes, zstd.EndDirective.continue)
  }

  /** Ends the frame; the compressor takes nothing after this. */
  finish(): Array<Uint8Array> {
    if (this.done) return []
    this.done = true
    return this.run(new Uint8Array(0), zstd.EndDirective.end)
  }

  private run(src: Uint8Array, end: number): Array<Uint8Array> {
    const out: Array<Uint8Array> = []
    let input = src
    for (;;) {
      if (this.used === this.dst.length) {
        this.dst = new Uint8Array(COMPRESSED_CHUNK)
        this.used = 0
      }
      const room = this.dst.length - this.used
      const [left, produced, consumed] = this.cctx.compressStream2(this.dst.subarray(this.used), input, end)
      if (produced > 0) {
        out.push(this.dst.subarray(this.used, this.used + produced))
        this.used += produced
      }
      input = input.subarray(consumed)
      // `continue` is done once the input is taken and the output was not full; `end` once nothing is left to flush.
      if (input.length === 0 && (end === zstd.EndDirective.end ? left === 0 : produced < room)) return out
    }
  }
}

/** Output array of `ZstdCompressor` (libzstd's recommended streaming output size is 128 KiB). */
const COMPRESSED_CHUNK = 128 * 1024

/** Decompresses a whole buffer (tests and tools; product code streams). */
export const decompressAll = (compressed: Uint8Array, options: ZstdOptions = {}): {
  readonly bytes: Uint8Array
  readonly problem: DbnProblem | undefined
} => {
  const z = new ZstdDecompressor(options)
  const a = z.push(compressed)
  const b = a.problem === undefined ? z.finish() : a
  const bytes = concatBytes([...a.chunks, ...(a.problem === undefined ? b.chunks : [])])
  return { bytes, problem: a.problem ?? b.problem }
}
