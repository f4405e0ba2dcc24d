/**
 * K-way merge of several decoded record sequences into one, in ts_event order (ties keep input order),
 * for replaying many DBN files as one session. Pure: the Effect side pulls chunks when `needs()` says so.
 *
 * An input may be given the ts_event of its first record up front: it is then pending, and `needs()` asks for its
 * first chunk only when the merge reaches that time. A folder of daily files is read one day after another, with one
 * file open and one file's buffers alive at a time, instead of every file's from the start.
 */
import { allocMboBatch, type DecodedChunk, type MboBatch } from "../dbn/Batch.js"
import type { Metadata } from "../dbn/Metadata.js"
import type { DbnRecord } from "../dbn/Records.js"
import { copyRow } from "./Cursor.js"

interface Input {
  chunk: DecodedChunk | undefined
  row: number
  other: number
  done: boolean
  /** Not fed yet, and not needed before its first record's time (`startHi`/`startLo`). */
  pending: boolean
  startHi: number
  startLo: number
}

const EMPTY: ReadonlyArray<never> = []
/** `earliest()`: an open input has no record in hand, so which comes first is not known yet. */
const STARVED = -2

/** Whether an input's next record (it must have one) is one of `others` rather than an MBO row. */
const otherIsNext = (input: Input): boolean => {
  const c = input.chunk!
  return input.other < c.others.length && c.othersAt[input.other]! <= input.row
}

/** The ts_event halves of an input's next record (it must have one), in stream order. */
const headHi = (input: Input): number =>
  otherIsNext(input)
    ? Number(input.chunk!.others[input.other]!.hd.ts_event >> 32n)
    : input.chunk!.mbo.tsEventHi[input.row]!

const headLo = (input: Input): number =>
  otherIsNext(input)
    ? Number(input.chunk!.others[input.other]!.hd.ts_event & 0xffffffffn)
    : input.chunk!.mbo.tsEventLo[input.row]!

export class ChunkMerger {
  private readonly inputs: Array<Input>
  private metadata: Metadata | undefined
  private metadataSent = false

  /**
   * `starts[i]`, when given, is the ts_event of input `i`'s first record (e.g. read from the file beforehand): the
   * input is not asked for before the merge gets there. It must not be later than that record, or records come out
   * of order.
   */
  constructor(count: number, private readonly capacity = 16_384, starts?: ReadonlyArray<bigint | undefined>) {
    this.inputs = Array.from({ length: count }, (_, i) => {
      const start = starts?.[i]
      return {
        chunk: undefined,
        row: 0,
        other: 0,
        done: false,
        pending: start !== undefined,
        startHi: start === undefined ? 0 : Number(start >> 32n),
        startLo: start === undefined ? 0 : Number(start & 0xffffffffn)
      }
    })
  }

  /**
   * Index of an input that must be fed before merging can go on, or -1: one whose current chunk is used up, or a
   * pending one whose first record is due (no later than every open input's next record).
   */
  needs(): number {
    const inputs = this.inputs
    let pending = false
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!
      if (input.pending) pending = true
      else if (!input.done && !this.hasNext(input)) return i
    }
    if (!pending) return -1
    const best = this.earliest()
    return best >= 0 && inputs[best]!.pending ? best : -1
  }

  /**
   * The input whose next record comes first (a pending one standing at its start; ties go to the lower index), -1
   * when every input is done, or STARVED when an open input must be refilled before that can be known.
   */
  private earliest(): number {
    const inputs = this.inputs
    let best = -1
    let bestHi = 0
    let bestLo = 0
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!
      if (input.done) continue
      if (!input.pending && !this.hasNext(input)) return STARVED
      const hi = input.pending ? input.startHi : headHi(input)
      const lo = input.pending ? input.startLo : headLo(input)
      if (best < 0 || hi < bestHi || (hi === bestHi && lo < bestLo)) {
        best = i
        bestHi = hi
        bestLo = lo
      }
    }
    return best
  }

  /** Gives input `i` its next chunk (`undefined` = that input ended). */
  feed(i: number, chunk: DecodedChunk | undefined): void {
    const input = this.inputs[i]!
    input.pending = false
    if (chunk === undefined) {
      input.done = true
      input.chunk = undefined
      return
    }
    if (chunk.metadata !== undefined && this.metadata === undefined) this.metadata = chunk.metadata
    input.chunk = chunk
    input.row = 0
    input.other = 0
  }

  get finished(): boolean {
    return this.inputs.every((input) => input.done)
  }

  /**
   * An input's unread chunk, passed through as it is (batch and `release` included), when the record-by-record merge
   * would take all of it before anything of another input: every record of it is earlier than each other input's next
   * record, or equal to it with the lower input index. Days or hours in separate files merge this way without a copy.
   */
  private wholeChunk(): DecodedChunk | undefined {
    const inputs = this.inputs
    const best = this.earliest()
    if (best < 0 || inputs[best]!.pending) return undefined
    const input = inputs[best]!
    const c = input.chunk!
    if (input.row !== 0 || input.other !== 0) return undefined
    // The chunk's latest ts_event (its last record's, for an input in order; the maximum keeps this exact otherwise).
    let maxHi = -1
    let maxLo = 0
    const eHi = c.mbo.tsEventHi
    const eLo = c.mbo.tsEventLo
    for (let r = 0; r < c.mbo.length; r++) {
      const hi = eHi[r]!
      if (hi > maxHi || (hi === maxHi && eLo[r]! > maxLo)) {
        maxHi = hi
        maxLo = eLo[r]!
      }
    }
    for (const o of c.others) {
      const hi = Number(o.hd.ts_event >> 32n)
      const lo = Number(o.hd.ts_event & 0xffffffffn)
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi
        maxLo = lo
      }
    }
    for (let j = 0; j < inputs.length; j++) {
      const other = inputs[j]!
      if (j === best || other.done) continue
      const hi = other.pending ? other.startHi : headHi(other)
      const lo = other.pending ? other.startLo : headLo(other)
      const before = maxHi < hi || (maxHi === hi && (maxLo < lo || (maxLo === lo && best < j)))
      if (!before) return undefined
    }
    // Forgotten here: the consumer may hand the batch back to the decoder (`release`), which refills it with the
    // next chunk's rows, so the merger must never look at it again.
    input.chunk = undefined
    let metadata: Metadata | undefined
    if (!this.metadataSent && this.metadata !== undefined) {
      metadata = this.metadata
      this.metadataSent = true
    }
    return { ...c, metadata }
  }

  private hasNext(input: Input): boolean {
    const c = input.chunk
    return c !== undefined && (input.row < c.mbo.length || input.other < c.others.length)
  }

  /**
   * Merges until an input runs dry (call `needs()`/`feed()` then `take()` again) or the output is full.
   * Returns undefined when nothing could be merged.
   */
  take(): DecodedChunk | undefined {
    const whole = this.wholeChunk()
    if (whole !== undefined) return whole
    const out = allocMboBatch(this.capacity)
    const others: Array<DbnRecord> = []
    const othersAt: Array<number> = []
    let skippedUnknown = 0
    let skippedMalformed = 0
    while (out.length < this.capacity) {
      const best = this.earliest()
      // An input to refill, nothing left, or a pending input's first record due (it is opened before anything later).
      if (best < 0 || this.inputs[best]!.pending) break
      const input = this.inputs[best]!
      const c = input.chunk!
      if (otherIsNext(input)) {
        others.push(c.others[input.other]!)
        othersAt.push(out.length)
        input.other++
      } else {
        copyRow(c.mbo, input.row, out, out.length)
        out.length++
        input.row++
      }
      if (!this.hasNext(input)) {
        skippedUnknown += c.skippedUnknown
        skippedMalformed += c.skippedMalformed
      }
    }
    if (out.length === 0 && others.length === 0) return undefined
    let metadata: Metadata | undefined
    if (!this.metadataSent && this.metadata !== undefined) {
      metadata = this.metadata
      this.metadataSent = true
    }
    const batch: MboBatch = out
    return {
      metadata,
      mbo: batch,
      others,
      othersAt,
      fatal: undefined,
      skippedUnknown,
      skippedMalformed,
      problems: EMPTY
    }
  }
}
