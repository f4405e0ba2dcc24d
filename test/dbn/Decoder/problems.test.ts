import { assert, describe, it } from "@effect/vitest"
import { RType } from "../../../src/dbn/Constants.js"
import { DbnDecoder } from "../../../src/dbn/Decoder.js"
import * as Encoder from "../../../src/dbn/Encoder.js"
import type { ErrorMsg, SystemMsg } from "../../../src/dbn/Records.js"
import { fixturesPresent } from "../../support/Fixtures.js"
import { bareMetadata, concat, mbo, mboBytes, metadata, rawRecord, v1Text, v2System } from "../builders.js"
import { dbnBytes, decodeSplit, decodeWhole, everyByte } from "../support.js"

const v3Meta = Encoder.encodeMetadata(metadata())
const META_END = v3Meta.length

const withPrelude = (bytes: ReadonlyArray<number>, length: number) => {
  const u8 = new Uint8Array(8)
  u8.set(bytes)
  new DataView(u8.buffer).setUint32(4, length, true)
  return u8
}

describe("DbnDecoder fatal problems", () => {
  it("stops with BadMagic at offset 0 when the stream does not start with DBN", () => {
    const out = decodeWhole(new TextEncoder().encode("XBN\u0003 whatever follows here"))
    assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["BadMagic", 0])
    assert.strictEqual(out.finish?.reason, "BadMagic")
  })

  it("reports BadMagic at the first wrong byte even before the prelude is complete", () => {
    const d = new DbnDecoder()
    d.push(new Uint8Array([0x44, 0x42]))
    assert.strictEqual(d.drain().fatal, undefined)
    d.push(new Uint8Array([0x58]))
    assert.deepStrictEqual([d.drain().fatal?.reason, d.finish()?.offset], ["BadMagic", 2])
  })

  it("names zstd input in its BadMagic detail", () => {
    const out = decodeWhole(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0]))
    assert.strictEqual(out.fatal?.reason, "BadMagic")
    assert.match(out.fatal!.detail, /zstd/)
  })

  for (const version of [0, 4, 255]) {
    it(`stops with UnsupportedVersion at offset 3 for version ${version}`, () => {
      const out = decodeWhole(withPrelude([0x44, 0x42, 0x4e, version], 120))
      assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["UnsupportedVersion", 3])
    })
  }

  it("stops with MetadataInvalid at offset 4 for a metadata length below 100", () => {
    const out = decodeWhole(withPrelude([0x44, 0x42, 0x4e, 3], 99))
    assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["MetadataInvalid", 4])
  })

  it("stops with MetadataTooLarge at offset 4 above maxMetadataLength", () => {
    const d = new DbnDecoder({ maxMetadataLength: 1000 })
    d.push(withPrelude([0x44, 0x42, 0x4e, 2], 1001))
    const out = d.drain()
    assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["MetadataTooLarge", 4])
  })

  it("rejects a declared 4 GiB metadata without allocating for it", () => {
    const before = process.memoryUsage().arrayBuffers
    const d = new DbnDecoder()
    d.push(withPrelude([0x44, 0x42, 0x4e, 3], 0xffffffff))
    d.push(new Uint8Array(1000))
    const out = d.drain()
    assert.strictEqual(out.fatal?.reason, "MetadataTooLarge")
    assert.isBelow(process.memoryUsage().arrayBuffers - before, 1 << 20)
  })

  it("accumulates an allowed but huge declared metadata only as its bytes arrive", () => {
    const d = new DbnDecoder({ maxMetadataLength: 2 ** 32 })
    const before = process.memoryUsage().arrayBuffers
    d.push(withPrelude([0x44, 0x42, 0x4e, 3], 0xfffffff0))
    for (let i = 0; i < 64; i++) {
      d.push(new Uint8Array(16 * 1024))
      assert.strictEqual(d.drain().fatal, undefined)
    }
    // 1 MiB received: the carried buffer is at most twice that, never the declared 4 GiB.
    assert.isBelow(process.memoryUsage().arrayBuffers - before, 8 << 20)
    assert.strictEqual(d.finish()?.reason, "Truncated")
  })

  it("stops with MetadataInvalid at offset 108 when schema_definition_length is not 0", () => {
    const bytes = Encoder.encodeMetadata(metadata())
    new DataView(bytes.buffer).setUint32(108, 7, true)
    const out = decodeWhole(bytes)
    assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["MetadataInvalid", 108])
  })

  it("stops with MetadataInvalid when symbol counts overrun the declared length", () => {
    const bytes = Encoder.encodeMetadata(metadata())
    new DataView(bytes.buffer).setUint32(112, 1_000_000, true)
    const out = decodeWhole(bytes)
    assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["MetadataInvalid", 116])
  })

  it("stops with MetadataInvalid for a v2 symbol_cstr_len of 0", () => {
    const bytes = bareMetadata(2)
    new DataView(bytes.buffer).setUint16(53, 0, true)
    const out = decodeWhole(bytes)
    assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["MetadataInvalid", 53])
  })

  for (const lengthByte of [0, 1, 3]) {
    it(`stops with RecordLength at a record whose length byte is ${lengthByte}, keeping the records before`, () => {
      const bad = mboBytes(2)
      bad[0] = lengthByte
      const bytes = concat(v3Meta, mboBytes(0), mboBytes(1), bad, mboBytes(3))
      for (const cuts of [[], everyByte(bytes.length)]) {
        const out = decodeSplit(bytes, cuts)
        assert.strictEqual(out.records.length, 2)
        assert.deepStrictEqual([out.fatal?.reason, out.fatal?.offset], ["RecordLength", META_END + 112])
      }
    })
  }

  it("stays stopped after a fatal problem: later bytes are ignored and every drain repeats it", () => {
    const d = new DbnDecoder()
    d.push(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))
    const first = d.drain().fatal
    d.push(concat(v3Meta, mboBytes(0)))
    const again = d.drain()
    assert.strictEqual(again.fatal, first)
    assert.strictEqual(again.mbo.length, 0)
    assert.strictEqual(d.finish(), first)
  })
})

describe("DbnDecoder skipped records", () => {
  it("skips unknown rtypes by their length and counts them", () => {
    const bytes = concat(v3Meta, mboBytes(0), rawRecord(24, 0x99), rawRecord(80, RType.BBO_1S), mboBytes(1))
    const out = decodeWhole(bytes)
    assert.strictEqual(out.fatal, undefined)
    assert.strictEqual(out.records.length, 2)
    assert.strictEqual(out.skippedUnknown, 2)
    assert.strictEqual(out.skippedMalformed, 0)
  })

  it("skips a record shorter than its rtype requires as Malformed with its offset, and goes on", () => {
    const short = [rawRecord(48, RType.MBO), rawRecord(64, RType.INSTRUMENT_DEF)]
    const bytes = concat(v3Meta, mboBytes(0), ...short, mboBytes(1))
    const out = decodeWhole(bytes)
    assert.strictEqual(out.fatal, undefined)
    assert.strictEqual(out.records.length, 2)
    assert.strictEqual(out.skippedMalformed, 2)
    assert.deepStrictEqual(out.problems.map((p) => [p.reason, p.offset]), [
      ["Malformed", META_END + 56],
      ["Malformed", META_END + 56 + 48]
    ])
  })

  it("keeps at most 8 problem descriptors per chunk but counts every malformed record", () => {
    const bytes = concat(v3Meta, ...Array.from({ length: 100 }, () => rawRecord(16, RType.MBO)))
    const d = new DbnDecoder()
    d.push(bytes)
    const out = d.drain()
    assert.strictEqual(out.skippedMalformed, 100)
    assert.strictEqual(out.problems.length, 8)
    assert.strictEqual(d.totals.skippedMalformed, 100)
  })

  it("counts per chunk in DecodedChunk and in total on the decoder", () => {
    const d = new DbnDecoder()
    d.push(concat(v3Meta, mboBytes(0), rawRecord(16, 0x99)))
    const a = d.drain()
    d.push(concat(rawRecord(16, 0x99), rawRecord(16, 0x98), mboBytes(1), mboBytes(2)))
    const b = d.drain()
    assert.deepStrictEqual([a.skippedUnknown, a.mbo.length, b.skippedUnknown, b.mbo.length], [1, 1, 2, 2])
    assert.deepStrictEqual(d.totals, {
      bytes: META_END + 56 * 3 + 16 * 3,
      mbo: 3,
      others: 0,
      skippedUnknown: 3,
      skippedMalformed: 0
    })
  })
})

describe("DbnDecoder end of input", () => {
  it("reports Truncated at the start of a partial record", () => {
    const bytes = concat(v3Meta, mboBytes(0), mboBytes(1).subarray(0, 30))
    const out = decodeWhole(bytes)
    assert.strictEqual(out.records.length, 1)
    assert.deepStrictEqual([out.finish?.reason, out.finish?.offset], ["Truncated", META_END + 56])
  })

  it("reports Truncated for a stream that ends inside the metadata or the prelude, or is empty", () => {
    assert.strictEqual(decodeWhole(v3Meta.subarray(0, 100)).finish?.reason, "Truncated")
    assert.strictEqual(decodeWhole(v3Meta.subarray(0, 5)).finish?.reason, "Truncated")
    assert.strictEqual(new DbnDecoder().finish()?.reason, "Truncated")
  })

  it("accepts an empty fragment", () => {
    assert.strictEqual(new DbnDecoder({ fragment: { version: 3 } }).finish(), undefined)
  })

  it("reports bytes pushed after the last drain as not decoded", () => {
    const d = new DbnDecoder()
    d.push(v3Meta)
    assert.strictEqual(d.finish()?.reason, "Truncated")
  })
})

describe.skipIf(!fixturesPresent)("DbnDecoder offsets", () => {
  it("counts consumed bytes in offset, leaving out a carried partial record", () => {
    const bytes = dbnBytes("dbn/test_data.mbo.v3.dbn")
    const d = new DbnDecoder()
    d.push(bytes.subarray(0, 360 + 56 + 10))
    d.drain()
    assert.strictEqual(d.offset, 360 + 56)
    d.push(bytes.subarray(360 + 56 + 10))
    assert.strictEqual(d.drain().mbo.length, 1)
    assert.strictEqual(d.offset, bytes.length)
  })
})

describe("DbnDecoder system and error messages", () => {
  it("recognises a v1 heartbeat by its text and derives v1 codes from the text", () => {
    const bytes = concat(
      bareMetadata(1),
      v1Text(RType.SYSTEM, "Heartbeat"),
      v1Text(RType.SYSTEM, "Subscription request 5 for mbo data succeeded"),
      v1Text(RType.SYSTEM, "Finished ohlcv-1s replay"),
      v1Text(RType.ERROR, "Failed to resolve symbol NQZ9"),
      v1Text(RType.SYSTEM, "Something else")
    )
    const out = decodeWhole(bytes)
    assert.strictEqual(out.fatal, undefined)
    const [hb, ack, done, err, other] = out.records as [SystemMsg, SystemMsg, SystemMsg, ErrorMsg, SystemMsg]
    assert.deepStrictEqual([hb.msg, hb.code, hb.isHeartbeat], ["Heartbeat", 0, true])
    assert.deepStrictEqual([ack.code, ack.isHeartbeat], [1, false])
    assert.strictEqual(done.code, 3)
    assert.deepStrictEqual([err.err, err.code, err.is_last], ["Failed to resolve symbol NQZ9", 4, 255])
    assert.deepStrictEqual([other.code, other.isHeartbeat], [255, false])
  })

  for (const version of [2, 3]) {
    it(`recognises a v${version} heartbeat by code 0, not by its text`, () => {
      const bytes = concat(bareMetadata(version), v2System("Heartbeat", 0), v2System("Heartbeat", 1), v2System("", 0))
      const out = decodeWhole(bytes)
      const [a, b, c] = out.records as [SystemMsg, SystemMsg, SystemMsg]
      assert.deepStrictEqual([a.isHeartbeat, b.isHeartbeat, c.isHeartbeat], [true, false, true])
      assert.deepStrictEqual([a.code, b.code], [0, 1])
    })
  }

  it("reads a 320-byte system message in a v1 stream with the v2 layout (as the C++ client does)", () => {
    const out = decodeWhole(concat(bareMetadata(1), v2System("Heartbeat", 0)))
    const [a] = out.records as [SystemMsg]
    assert.deepStrictEqual([a.msg, a.code, a.isHeartbeat, a.hd.length], ["Heartbeat", 0, true, 320])
  })

  it("treats an 80-byte system message in a v2 stream as Malformed", () => {
    const out = decodeWhole(concat(bareMetadata(2), v1Text(RType.SYSTEM, "Heartbeat")))
    assert.strictEqual(out.records.length, 0)
    assert.strictEqual(out.skippedMalformed, 1)
  })
})

describe("DbnDecoder ts_out", () => {
  it("reads the ts_out suffix into the MBO batch columns and into other records", () => {
    const bytes = concat(
      Encoder.encodeMetadata(metadata({ ts_out: true })),
      Encoder.encodeRecord({ ...mbo(0), ts_out: 77n }, { tsOut: true }),
      Encoder.encodeRecord({ ...mbo(1), ts_out: 2n ** 63n + 5n }, { tsOut: true }),
      v2SystemTs("Heartbeat", 0, 99n)
    )
    const d = new DbnDecoder()
    d.push(bytes)
    const out = d.drain()
    assert.strictEqual(out.metadata?.ts_out, true)
    assert.strictEqual(out.mbo.length, 2)
    assert.deepStrictEqual([out.mbo.tsOutLo![0], out.mbo.tsOutHi![0]], [77, 0])
    assert.deepStrictEqual([out.mbo.tsOutLo![1], out.mbo.tsOutHi![1]], [5, 0x80000000])
    assert.strictEqual(out.others[0]!.ts_out, 99n)
    assert.strictEqual(out.others[0]!.hd.length, 328)
  })

  it("treats an MBO record without room for ts_out as Malformed when the stream has ts_out", () => {
    const bytes = concat(Encoder.encodeMetadata(metadata({ ts_out: true })), mboBytes(0))
    const out = decodeWhole(bytes)
    assert.deepStrictEqual([out.records.length, out.skippedMalformed], [0, 1])
  })
})

const v2SystemTs = (text: string, code: number, tsOut: bigint): Uint8Array => {
  const body = v2System(text, code)
  const u8 = new Uint8Array(328)
  u8.set(body)
  u8[0] = 328 / 4
  new DataView(u8.buffer).setBigUint64(320, tsOut, true)
  return u8
}
