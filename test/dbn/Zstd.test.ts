import { assert, describe, it } from "@effect/vitest"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import * as Zstd from "../../src/dbn/Zstd.js"
import { fixturesPresent, readFixture } from "../support/Fixtures.js"
import { concat } from "./builders.js"
import { allFixtures, dbnBytes, everyByte, randomCuts } from "./support.js"

/** Decompresses `compressed` pushed in pieces ending at `cuts`. */
const inflate = (compressed: Uint8Array, cuts: ReadonlyArray<number> = [], options: Zstd.ZstdOptions = {}) => {
  const z = new Zstd.ZstdDecompressor(options)
  const chunks: Array<Uint8Array> = []
  let problem = undefined as ReturnType<Zstd.ZstdDecompressor["push"]>["problem"]
  let from = 0
  for (const to of [...cuts.filter((c) => c > 0 && c < compressed.length), compressed.length]) {
    const r = z.push(compressed.subarray(from, to))
    from = to
    chunks.push(...r.chunks)
    problem = r.problem
    if (problem !== undefined) break
  }
  if (problem === undefined) {
    const r = z.finish()
    chunks.push(...r.chunks)
    problem = r.problem
  }
  return { bytes: concat(...chunks), problem, frames: z.frameCount }
}

/** A skippable frame (magic 0x184D2A5?) holding `size` bytes. */
const skippable = (size: number, nibble = 0): Uint8Array => {
  const u8 = new Uint8Array(8 + size).fill(0xab)
  const dv = new DataView(u8.buffer)
  dv.setUint32(0, 0x184d2a50 + nibble, true)
  dv.setUint32(4, size, true)
  return u8
}

/** The smallest valid frame: single segment, content size 0, one empty last raw block (9 bytes). */
const EMPTY_FRAME = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00])

describe("Zstd.isZstd", () => {
  it("detects the zstd magic and nothing else", () => {
    assert.isTrue(Zstd.isZstd(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0])))
    assert.isFalse(Zstd.isZstd(new Uint8Array([0x28, 0xb5, 0x2f])))
    assert.isFalse(Zstd.isZstd(new TextEncoder().encode("DBN\u0003")))
  })
})

describe.skipIf(!fixturesPresent)("ZstdDecompressor over the fixtures", () => {
  const zst = allFixtures().filter((f) => f.endsWith(".zst"))

  for (const file of zst) {
    it(`decompresses ${file} identically whole, byte by byte and at random splits`, () => {
      const compressed = readFixture(file)
      const whole = inflate(compressed)
      assert.strictEqual(whole.problem, undefined)
      assert.isAbove(whole.bytes.length, 0)
      const cuts = compressed.length <= 20_000 ? everyByte(compressed.length) : randomCuts(compressed.length, 7, 9000)
      assert.deepStrictEqual(inflate(compressed, cuts).bytes, whole.bytes)
      assert.deepStrictEqual(inflate(compressed, randomCuts(compressed.length, 11)).bytes, whole.bytes)
    })
  }

  for (const [zfile, plain] of [
    ["dbn/test_data.mbo.v2.dbn.zst", "dbn/test_data.mbo.dbn"],
    ["dbn/test_data.mbo.v3.dbn.zst", "dbn/test_data.mbo.v3.dbn"],
    ["dbn/test_data.definition.v2.dbn.zst", "dbn/test_data.definition.dbn"],
    ["dbn/test_data.definition.v1.dbn.zst", "databento-cpp/test_data.definition.v1.dbn"],
    ["dbn/test_data.mbp-1.v2.dbn.zst", "dbn/test_data.mbp-1.dbn"],
    ["dbn/test_data.trades.v2.dbn.zst", "dbn/test_data.trades.dbn"]
  ] as const) {
    it(`decompresses ${zfile} to the bytes of ${plain}`, () => {
      assert.deepStrictEqual(inflate(readFixture(zfile)).bytes, readFixture(plain))
    })
  }

  it("decodes all 8 frames of the multi-frame fragment", () => {
    const r = inflate(readFixture("dbn/multi-frame.definition.v1.dbn.frag.zst"))
    assert.strictEqual(r.frames, 8)
    assert.strictEqual(r.bytes.length, 8 * 360)
  })

  it("drops skippable frames before, between and after frames", () => {
    const a = readFixture("dbn/test_data.mbo.v3.dbn.zst")
    const b = readFixture("dbn/test_data.trades.v3.dbn.zst")
    const input = concat(skippable(5), a, skippable(0, 0xf), skippable(70_000, 3), b, skippable(1))
    const expected = concat(dbnBytes("dbn/test_data.mbo.v3.dbn.zst"), dbnBytes("dbn/test_data.trades.v3.dbn.zst"))
    for (const cuts of [[], everyByte(input.length)]) {
      const r = inflate(input, cuts)
      assert.strictEqual(r.problem, undefined)
      assert.deepStrictEqual(r.bytes, expected)
      assert.strictEqual(r.frames, 2)
    }
  })

  it("handles frames of a few bytes, alone and between others", () => {
    const a = readFixture("dbn/test_data.mbo.v3.dbn.zst")
    const input = concat(EMPTY_FRAME, a, EMPTY_FRAME, EMPTY_FRAME)
    for (const cuts of [[], everyByte(input.length)]) {
      const r = inflate(input, cuts)
      assert.strictEqual(r.problem, undefined)
      assert.deepStrictEqual(r.bytes, dbnBytes("dbn/test_data.mbo.v3.dbn.zst"))
      assert.strictEqual(r.frames, 4)
    }
  })

  it("reports a stream cut inside a frame as a Zstd problem from finish()", () => {
    const a = readFixture("dbn/test_data.definition.v3.dbn.zst")
    const r = inflate(a.subarray(0, a.length - 3))
    assert.strictEqual(r.problem?.reason, "Zstd")
  })

  it("reports garbage after a frame as a Zstd problem and stops", () => {
    const a = readFixture("dbn/test_data.mbo.v3.dbn.zst")
    const z = new Zstd.ZstdDecompressor()
    const r = z.push(concat(a, new TextEncoder().encode("not zstd at all")))
    assert.strictEqual(r.problem?.reason, "Zstd")
    assert.match(r.problem!.detail, /not a zstd frame/)
    assert.strictEqual(concat(...r.chunks).length, 472)
    assert.strictEqual(z.push(a).problem, r.problem)
    assert.strictEqual(z.finish().problem, r.problem)
  })

  it("turns corrupt block data into a Zstd problem instead of an exception", () => {
    const a = readFixture("nautilus_trader/esh4-glbx-mdp3-20231224.mbo.dbn.zst").slice()
    for (let i = 200; i < a.length; i += 997) a[i] ^= 0x5a
    const r = inflate(a)
    assert.strictEqual(r.problem?.reason, "Zstd")
  })

  it("checks each frame's checksum: one flipped checksum bit is a Zstd problem, the frames before it stay", () => {
    const a = readFixture("dbn/test_data.mbo.v3.dbn.zst")
    // The fixture's frame carries an XXH64 checksum (frame header bit 2): its last 4 bytes.
    assert.notStrictEqual(a[4]! & 4, 0)
    const bad = a.slice()
    bad[bad.length - 2]! ^= 0x10
    for (const cuts of [[], everyByte(a.length * 2)]) {
      const r = inflate(concat(a, bad, a), cuts)
      assert.strictEqual(r.problem?.reason, "Zstd")
      assert.match(r.problem!.detail, /checksum/i)
      assert.strictEqual(r.frames, 1)
    }
  })

  it("never turns a flipped byte into different output: each flip is a Zstd problem or changes nothing", () => {
    const a = readFixture("nautilus_trader/esh4-glbx-mdp3-20231224.mbo.dbn.zst")
    const expected = dbnBytes("nautilus_trader/esh4-glbx-mdp3-20231224.mbo.dbn.zst")
    let seed = 11
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
    let problems = 0
    for (let trial = 0; trial < 300; trial++) {
      const bad = a.slice()
      const at = Math.floor(next() * bad.length)
      bad[at]! ^= 1 + Math.floor(next() * 255)
      const r = inflate(bad, [Math.floor(next() * bad.length)])
      if (r.problem === undefined) assert.deepStrictEqual(r.bytes, expected, `byte ${at}`)
      else {
        assert.strictEqual(r.problem.reason, "Zstd")
        problems++
      }
    }
    // Nearly every byte matters (the frame's checksum covers all of its content).
    assert.isAbove(problems, 290)
  })

  it("a stream cut inside a frame leaves nothing behind for later streams; nothing is taken after finish", () => {
    const a = readFixture("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    const b = readFixture("dbn/test_data.mbo.v3.dbn.zst")
    for (let k = 0; k < 6; k++) {
      // Streams ending mid-frame hand their decoder back as it is; each next stream must start from a clean state.
      const cut = new Zstd.ZstdDecompressor()
      cut.push(a.subarray(0, 1000 + 150_000 * k))
      assert.strictEqual(cut.finish().problem?.reason, "Zstd")
      assert.strictEqual(cut.push(b).chunks.length, 0)
      const r = inflate(b, [7 * k + 5])
      assert.strictEqual(r.problem, undefined)
      assert.deepStrictEqual(r.bytes, dbnBytes("dbn/test_data.mbo.v3.dbn.zst"))
    }
    const done = new Zstd.ZstdDecompressor()
    assert.isAbove(done.push(b).chunks.length, 0)
    assert.strictEqual(done.finish().problem, undefined)
    const late = done.push(b)
    assert.strictEqual(late.chunks.length, 0)
    assert.match(late.problem!.detail, /after the end/)
  })

  it("with reuseOutput, writes every push's output over the same few arrays, each push's bytes right", () => {
    const compressed = readFixture("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    const expected = dbnBytes("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    const z = new Zstd.ZstdDecompressor({ reuseOutput: true })
    const copies: Array<Uint8Array> = []
    const buffers = new Set<ArrayBufferLike>()
    // 300 kB pieces decompress to about 1.2 MB each: a little over one output array.
    for (let i = 0; i < compressed.length; i += 300_000) {
      const r = z.push(compressed.subarray(i, i + 300_000))
      assert.strictEqual(r.problem, undefined)
      for (const c of r.chunks) {
        copies.push(c.slice())
        buffers.add(c.buffer)
      }
    }
    assert.strictEqual(z.finish().problem, undefined)
    assert.deepStrictEqual(concat(...copies), expected)
    assert.strictEqual(buffers.size, 2)
  })

  it("rejects a frame whose window exceeds the limit before allocating it", () => {
    // Window descriptor exponent 21: 2^31-byte window.
    const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00])
    const before = process.memoryUsage().arrayBuffers
    const r = inflate(frame)
    assert.strictEqual(r.problem?.reason, "Zstd")
    assert.match(r.problem!.detail, /window/)
    assert.isBelow(process.memoryUsage().arrayBuffers - before, 1 << 20)
    // A 16 MiB window: refused under an 8 MiB limit, decoded under the default one.
    const frame16 = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 14 << 3, 0x01, 0x00, 0x00])
    assert.match(inflate(frame16, [], { maxWindow: 8 << 20 }).problem!.detail, /window/)
    assert.strictEqual(inflate(frame16).problem, undefined)
  })

  it("streams the largest fixture through the decoder with bounded memory", () => {
    const compressed = readFixture("nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    globalThis.gc?.()
    const base = process.memoryUsage()
    let peak = 0
    const z = new Zstd.ZstdDecompressor()
    const d = new DbnDecoder()
    let rows = 0
    for (let i = 0; i < compressed.length; i += 16 * 1024) {
      for (const c of z.push(compressed.subarray(i, i + 16 * 1024)).chunks) d.push(c)
      rows += d.drain().mbo.length
      const m = process.memoryUsage()
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers)
    }
    for (const c of z.finish().chunks) d.push(c)
    rows += d.drain().mbo.length
    assert.strictEqual(d.finish(), undefined)
    assert.strictEqual(rows, 68792)
    // The decompressed stream is 3.85 MB; a streaming window plus one block per step stays well under 64 MB.
    assert.isBelow(peak, 64 << 20)
  })
})
