import { assert, describe, it } from "@effect/vitest"
import { allocMboBatch, chunkOfRows, type DecodedChunk } from "../../src/dbn/Batch.js"
import type { DbnRecord, ErrorMsg, InstrumentDefMsg, SystemMsg } from "../../src/dbn/Records.js"
import * as Resume from "../../src/live/Resume.js"
import * as Cursor from "../../src/source/Cursor.js"

/** MBO rows with these ts_event values; order_id = global index, so rows can be told apart. */
const chunkOf = (ts: ReadonlyArray<bigint>, firstId: number, others: Array<[number, DbnRecord]> = []): DecodedChunk => {
  const mbo = allocMboBatch(ts.length)
  ts.forEach((t, i) => {
    mbo.tsEventHi[i] = Number(t >> 32n)
    mbo.tsEventLo[i] = Number(t & 0xffffffffn)
    mbo.orderIdLo[i] = firstId + i
  })
  mbo.length = ts.length
  return chunkOfRows(mbo, others.map(([, r]) => r), others.map(([at]) => at))
}

const hd = (rtype: number, ts: bigint) => ({ length: 320, rtype, publisher_id: 0, instrument_id: 0, ts_event: ts })
const heartbeat = (ts: bigint): SystemMsg => ({ _tag: "system", hd: hd(0x17, ts), msg: "Heartbeat", code: 0, isHeartbeat: true })
const error = (ts: bigint): ErrorMsg => ({ _tag: "error", hd: hd(0x15, ts), err: "x", code: 6, is_last: 1 })
const definition = (ts: bigint): InstrumentDefMsg => ({ _tag: "definition", hd: hd(0x13, ts) } as unknown as InstrumentDefMsg)

const ids = (c: DecodedChunk) => Array.from(c.mbo.orderIdLo.subarray(0, c.mbo.length))

/** Deterministic LCG, so failures reproduce. */
const rng = (seed: number) => () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return seed / 4294967296
}

describe("Resume", () => {
  it("takes heartbeats and errors out of a chunk and keeps everything else in place", () => {
    const c = chunkOf([10n, 11n, 12n], 0, [[0, heartbeat(99n)], [1, definition(5n)], [2, error(98n)], [3, heartbeat(97n)]])
    const { data, control } = Resume.splitControl(c)
    assert.deepStrictEqual(control.map((x) => [x.record._tag, x.row]), [["system", 0], ["error", 2], ["system", 3]])
    assert.deepStrictEqual(data.others.map((r) => r._tag), ["definition"])
    assert.deepStrictEqual(data.othersAt, [1])
    assert.strictEqual(data.mbo, c.mbo)
    const plain = chunkOf([1n], 0)
    assert.strictEqual(Resume.splitControl(plain).data, plain)
  })

  it("advances like Cursor.advance over MBO rows, ignoring definitions and gateway messages", () => {
    const c = chunkOf([10n, 10n, 12n, 12n, 12n], 0, [[2, definition(500n)], [5, heartbeat(900n)]])
    const a = Resume.advanceEvents({ tsEvent: 10n, seen: 3 }, c)
    assert.deepStrictEqual(a.cursor, { tsEvent: 12n, seen: 3 })
    assert.strictEqual(a.events, 5)
    assert.strictEqual(a.first, 10n)
    assert.deepStrictEqual(Cursor.advance({ tsEvent: 10n, seen: 3 }, chunkOf([10n, 10n, 12n, 12n, 12n], 0)), a.cursor)
    assert.deepStrictEqual(Resume.advanceEvents(undefined, c, 2).cursor, { tsEvent: 10n, seen: 2 })
    assert.deepStrictEqual(Resume.advanceEvents(undefined, chunkOf([], 0, [[0, heartbeat(1n)]])).cursor, undefined)
  })

  it("leaves gateway snapshot rows out of a live cursor, so a resume never skips the real records beside them", () => {
    const c = chunkOf([40n, 50n, 50n, 50n, 60n], 0)
    c.mbo.flags[0] = 0x20 | 0x08
    c.mbo.flags[1] = 0x20 | 0x08 | 0x80 // the snapshot's last row shares ts 50 with two live records
    assert.deepStrictEqual(Resume.advanceEvents(undefined, c, 4, true).cursor, { tsEvent: 50n, seen: 2 })
    assert.strictEqual(Resume.advanceEvents(undefined, c, 5, true).events, 3)
    // A file replay counts them: the Skipper drops them again on a resume through the same file.
    assert.deepStrictEqual(Resume.advanceEvents(undefined, c, 4).cursor, { tsEvent: 50n, seen: 3 })
  })

  it("cuts a chunk before the given rows, records before a cut row staying in front of it", () => {
    const c = chunkOf([1n, 2n, 3n, 4n, 5n], 0, [[0, definition(1n)], [2, definition(2n)], [5, definition(9n)]])
    const pieces = Resume.cutAt({ ...c, fatal: { reason: "Truncated", offset: 7, detail: "x" } } as DecodedChunk, [2, 4])
    assert.deepStrictEqual(pieces.map(ids), [[0, 1], [2, 3], [4]])
    assert.deepStrictEqual(pieces.map((p) => p.othersAt), [[0], [0], [1]])
    assert.deepStrictEqual(pieces.map((p) => p.fatal === undefined), [true, true, false])
    assert.strictEqual(pieces.reduce((n, p) => n + p.mbo.length, 0), 5)
    assert.deepStrictEqual(Resume.cutAt(c, []), [c])
    // A cut at the end leaves an empty last piece with the records after the last row.
    assert.deepStrictEqual(Resume.cutAt(c, [5]).map((p) => [ids(p), p.others.length]), [[[0, 1, 2, 3, 4], 2], [[], 1]])
  })

  it("ends a gap after the whole first timestamp, letting snapshot and state records through", () => {
    const end = new Resume.GapEnd()
    // A snapshot (old ts_event, F_SNAPSHOT), then live events: three at ts 50 (the gap may have cut into them).
    const first = chunkOf([7n, 3n, 50n, 50n], 0, [[2, definition(1n)]])
    first.mbo.flags[0] = 0x20
    first.mbo.flags[1] = 0x20 | 0x80
    const a = end.apply(first)
    assert.deepStrictEqual(ids(a), [0, 1])
    assert.deepStrictEqual(a.othersAt, [2])
    assert.isFalse(end.passed)
    assert.strictEqual(end.lastTs, 50n)
    const b = end.apply(chunkOf([50n, 51n, 51n], 10))
    assert.deepStrictEqual(ids(b), [11, 12])
    assert.isTrue(end.passed)
    const c = chunkOf([52n], 20)
    assert.strictEqual(end.apply(c), c)
  })

  it("after a gateway snapshot, ends the gap at the first timestamp but drops nothing: the books need every event", () => {
    const end = new Resume.GapEnd(true)
    const first = chunkOf([7n, 3n, 50n, 50n], 0)
    first.mbo.flags[0] = 0x20
    first.mbo.flags[1] = 0x20 | 0x80
    assert.strictEqual(end.apply(first), first)
    assert.isTrue(end.passed)
    assert.strictEqual(end.lastTs, 50n)
    const b = chunkOf([50n, 51n], 10)
    assert.strictEqual(end.apply(b), b)
  })

  it("resumes exactly at any cut through runs of records sharing one ts_event", () => {
    const next = rng(7)
    for (let trial = 0; trial < 200; trial++) {
      // A stream with long runs of equal timestamps, delivered in random chunk sizes.
      const ts: Array<bigint> = []
      let t = 1_700_000_000_000_000_000n
      while (ts.length < 300) {
        const run = 1 + Math.floor(next() * 40)
        for (let i = 0; i < run; i++) ts.push(t)
        t += BigInt(1 + Math.floor(next() * 3))
      }
      const cut = Math.floor(next() * ts.length)
      let cursor: Cursor.Cursor | undefined
      const delivered: Array<number> = []
      for (let i = 0; i < cut;) {
        const n = Math.min(cut - i, 1 + Math.floor(next() * 50))
        const c = chunkOf(ts.slice(i, i + n), i, [[0, heartbeat(t + 1000n)]])
        cursor = Resume.advanceEvents(cursor, Resume.splitControl(c).data).cursor
        delivered.push(...ids(c))
        i += n
      }
      // The gateway replays from start = cursor.tsEvent (inclusive); the Skipper drops what was delivered.
      const from = cursor === undefined ? 0 : ts.findIndex((x) => x >= cursor!.tsEvent)
      const skipper = cursor === undefined ? undefined : new Cursor.Skipper(cursor)
      for (let i = from; i < ts.length;) {
        const n = Math.min(ts.length - i, 1 + Math.floor(next() * 50))
        const c = chunkOf(ts.slice(i, i + n), i, [[0, definition(1n)]])
        delivered.push(...ids(skipper === undefined ? c : skipper.apply(c)))
        i += n
      }
      assert.deepStrictEqual(delivered, ts.map((_, i) => i), `trial ${trial} cut ${cut}`)
    }
  })
})
