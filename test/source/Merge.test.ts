import { assert, describe, it } from "@effect/vitest"
import type { DecodedChunk } from "../../src/dbn/Batch.js"
import type { Metadata } from "../../src/dbn/Metadata.js"
import { ChunkMerger } from "../../src/source/Merge.js"
import { chunkOf, idsOf, tsOf } from "./Support.js"

const T = 1_700_000_000_000_000_000n

/** Drives the merger over per-input chunk lists the way the Effect side does. */
const mergeAll = (
  inputs: Array<Array<DecodedChunk>>,
  capacity = 3,
  starts?: ReadonlyArray<bigint | undefined>,
  onFeed?: (input: number, out: ReadonlyArray<DecodedChunk>) => void
): Array<DecodedChunk> => {
  const merger = new ChunkMerger(inputs.length, capacity, starts)
  const out: Array<DecodedChunk> = []
  for (;;) {
    const i = merger.needs()
    if (i >= 0) {
      onFeed?.(i, out)
      merger.feed(i, inputs[i]!.shift())
      continue
    }
    const c = merger.take()
    if (c !== undefined) out.push(c)
    else if (merger.finished) return out
  }
}

describe("ChunkMerger", () => {
  it("merges overlapping files in ts_event order, ties in input order", () => {
    const a = [chunkOf([T, T + 2n], [1, 2]), chunkOf([T + 4n], [3])]
    const b = [chunkOf([T + 1n, T + 2n, T + 3n], [11, 12, 13])]
    const out = mergeAll([a, b])
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 11, 2, 12, 13, 3])
    const ts = out.flatMap(tsOf)
    assert.deepStrictEqual(ts, [...ts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)))
  })

  it("concatenates files whose times do not overlap", () => {
    const out = mergeAll([[chunkOf([T + 10n, T + 11n], [3, 4])], [chunkOf([T, T + 1n], [1, 2])]], 100)
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 2, 3, 4])
  })

  it("passes a chunk that comes wholly before every other input through as it is, without copying it", () => {
    const early = chunkOf([T, T + 1n, T + 5n], [1, 2, 3])
    const late = chunkOf([T + 5n, T + 6n], [11, 12])
    // A tie with a later input still lets the chunk through: ties go to the lower input index.
    const out = mergeAll([[early], [late]], 100)
    assert.strictEqual(out[0]!.mbo, early.mbo)
    assert.strictEqual(out[1]!.mbo, late.mbo)
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 2, 3, 11, 12])
  })

  it("merges record by record when a tie belongs to an earlier input", () => {
    const late = chunkOf([T + 5n, T + 6n], [11, 12])
    const early = chunkOf([T, T + 5n], [1, 2])
    const out = mergeAll([[late], [early]], 100)
    assert.notStrictEqual(out[0]!.mbo, early.mbo)
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 11, 2, 12])
  })

  it("asks for an input given its first record's time only when the merge gets there", () => {
    const first = chunkOf([T, T + 1n], [1, 2])
    const a = [first, chunkOf([T + 2n, T + 3n], [3, 4])]
    const b = [chunkOf([T + 10n, T + 11n], [11, 12])]
    const c = [chunkOf([T + 20n], [21])]
    // Rows already out when each input was first fed.
    const firstFed = new Map<number, number>()
    const out = mergeAll([c, a, b], 100, [T + 20n, T, T + 10n], (i, sofar) => {
      if (!firstFed.has(i)) firstFed.set(i, sofar.flatMap(idsOf).length)
    })
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 2, 3, 4, 11, 12, 21])
    assert.deepStrictEqual([...firstFed], [[1, 0], [2, 4], [0, 6]])
    // Days that do not overlap still pass through whole.
    assert.strictEqual(out[0]!.mbo, first.mbo)
  })

  it("stops merging at a waiting input's first record and resumes once it is fed, ties in input order", () => {
    const a = [chunkOf([T, T + 5n, T + 7n], [1, 2, 3])]
    const b = [chunkOf([T + 5n, T + 6n], [11, 12])]
    // b (input 0) starts at T+5, a tie with a's second record: input order puts b's first.
    const out = mergeAll([b, a], 100, [T + 5n, T])
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 11, 2, 12, 3])
    const ts = out.flatMap(tsOf)
    assert.deepStrictEqual(ts, [...ts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)))
  })

  it("treats an input given no start, or one that turns out empty, like any other", () => {
    const a = [chunkOf([T + 3n], [3])]
    const b = [chunkOf([T, T + 4n], [1, 4])]
    const empty: Array<DecodedChunk> = []
    assert.deepStrictEqual(mergeAll([a, b, empty], 100, [T + 3n, undefined, T + 1n]).flatMap(idsOf), [1, 3, 4])
  })

  it("sends the metadata of the first file only, whole chunks included", () => {
    const first = { dataset: "GLBX.MDP3" } as unknown as Metadata
    const second = { dataset: "OTHER" } as unknown as Metadata
    const a = { ...chunkOf([T, T + 1n], [1, 2]), metadata: first }
    const b = { ...chunkOf([T + 10n], [3]), metadata: second }
    const out = mergeAll([[a], [b]], 100)
    assert.deepStrictEqual(out.map((c) => c.metadata), [first, undefined])
    assert.deepStrictEqual(out.flatMap(idsOf), [1, 2, 3])
  })
})
