import { assert, describe, it } from "@effect/vitest"
import { fixturesPresent } from "../../support/Fixtures.js"
import { allFixtures, dbnBytes, decodeSplit, decodeWhole, everyByte, optionsFor, randomCuts } from "../support.js"

/** Every fixture file: DBN version ("frag" = records only) and record counts by kind, from the fixture README. */
const CASES: Record<string, { readonly version: number | "frag"; readonly counts: Record<string, number> }> = {
  "databento-cpp/test_data.definition.v1.dbn": { version: 1, counts: { definition: 2 } },
  "databento-cpp/test_data.mbo.v1.dbn": { version: 1, counts: { mbo: 2 } },
  "databento-python/GLBX.MDP3/test_data.definition.dbn.zst": { version: 3, counts: { definition: 1 } },
  "databento-python/GLBX.MDP3/test_data.mbo.dbn.zst": { version: 3, counts: { mbo: 4 } },
  "databento-python/GLBX.MDP3/test_data.mbp-1.dbn.zst": { version: 3, counts: { mbp1: 4 } },
  "databento-python/GLBX.MDP3/test_data.statistics.dbn.zst": { version: 3, counts: { stat: 4 } },
  "databento-python/GLBX.MDP3/test_data.status.dbn.zst": { version: 3, counts: { status: 4 } },
  "databento-python/GLBX.MDP3/test_data.trades.dbn.zst": { version: 3, counts: { trade: 4 } },
  "databento-python/LIVE/test_data.live.dbn.zst": {
    version: 3,
    counts: { symbolMapping: 20, mbo: 5, trade: 2, mbp1: 2, mbp10: 2, ohlcv: 4, stat: 9, definition: 2 }
  },
  "databento-python/OPRA.PILLAR/test_data.definition.dbn.zst": { version: 3, counts: { definition: 1 } },
  "dbn/multi-frame.definition.v1.dbn.frag.zst": { version: "frag", counts: { definition: 8 } },
  "dbn/test_data.definition.dbn": { version: 2, counts: { definition: 2 } },
  "dbn/test_data.definition.v1.dbn.frag": { version: "frag", counts: { definition: 2 } },
  "dbn/test_data.definition.v1.dbn.zst": { version: 1, counts: { definition: 2 } },
  "dbn/test_data.definition.v2.dbn.frag": { version: "frag", counts: { definition: 2 } },
  "dbn/test_data.definition.v2.dbn.zst": { version: 2, counts: { definition: 2 } },
  "dbn/test_data.definition.v3.dbn.frag": { version: "frag", counts: { definition: 2 } },
  "dbn/test_data.definition.v3.dbn.zst": { version: 3, counts: { definition: 2 } },
  "dbn/test_data.mbo.dbn": { version: 2, counts: { mbo: 2 } },
  "dbn/test_data.mbo.v1.dbn.zst": { version: 1, counts: { mbo: 2 } },
  "dbn/test_data.mbo.v2.dbn.zst": { version: 2, counts: { mbo: 2 } },
  "dbn/test_data.mbo.v3.dbn": { version: 3, counts: { mbo: 2 } },
  "dbn/test_data.mbo.v3.dbn.zst": { version: 3, counts: { mbo: 2 } },
  "dbn/test_data.mbp-1.dbn": { version: 2, counts: { mbp1: 2 } },
  "dbn/test_data.mbp-1.v1.dbn.zst": { version: 1, counts: { mbp1: 2 } },
  "dbn/test_data.mbp-1.v2.dbn.zst": { version: 2, counts: { mbp1: 2 } },
  "dbn/test_data.mbp-1.v3.dbn.zst": { version: 3, counts: { mbp1: 2 } },
  "dbn/test_data.statistics.v1.dbn.zst": { version: 1, counts: { stat: 2 } },
  "dbn/test_data.statistics.v2.dbn.zst": { version: 2, counts: { stat: 2 } },
  "dbn/test_data.statistics.v3.dbn.zst": { version: 3, counts: { stat: 2 } },
  "dbn/test_data.trades.dbn": { version: 2, counts: { trade: 2 } },
  "dbn/test_data.trades.v1.dbn.zst": { version: 1, counts: { trade: 2 } },
  "dbn/test_data.trades.v2.dbn.zst": { version: 2, counts: { trade: 2 } },
  "dbn/test_data.trades.v3.dbn.zst": { version: 3, counts: { trade: 2 } },
  "nautilus_trader/definition-glbx-es-fut.dbn.zst": { version: 1, counts: { definition: 2 } },
  "nautilus_trader/definition-glbx-es-opt.dbn.zst": { version: 1, counts: { definition: 2 } },
  "nautilus_trader/esh4-glbx-mdp3-20231224.mbo.dbn.zst": { version: 1, counts: { mbo: 8725 } },
  "nautilus_trader/esh4-glbx-mdp3-20231225.mbo.dbn.zst": { version: 1, counts: { mbo: 68792 } },
  "nautilus_trader/futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst": { version: 1, counts: { mbp1: 2288 } },
  "nautilus_trader/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst": { version: 1, counts: { trade: 120 } },
  "nautilus_trader/historical_bars_catalog_futures_definition.dbn.zst": { version: 1, counts: { definition: 2 } },
  "nautilus_trader/options_catalog_options_definition.dbn.zst": { version: 1, counts: { definition: 2 } },
  "nautilus_trader/options_exercise_options_definition.dbn.zst": { version: 1, counts: { definition: 1 } },
  "nautilus_trader/orderbooks_definition.dbn.zst": { version: 1, counts: { definition: 1 } },
  "nautilus_trader/orderbooks_mbo_2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst": {
    version: 1,
    counts: { mbo: 13796 }
  },
  "nautilus_trader/test_data.definition.futures_contract.dbn.zst": { version: 3, counts: { definition: 1 } },
  "nautilus_trader/test_data.definition.option.dbn.zst": { version: 3, counts: { definition: 2 } },
  "nautilus_trader/test_data.definition.option_spread.dbn.zst": { version: 3, counts: { definition: 2 } }
}

const countByTag = (records: ReadonlyArray<{ readonly _tag: string }>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const r of records) out[r._tag] = (out[r._tag] ?? 0) + 1
  return out
}

describe.skipIf(!fixturesPresent)("DbnDecoder framing over every fixture", () => {
  it("has a case for every fixture file and a file for every case", () => {
    assert.deepStrictEqual(allFixtures(), Object.keys(CASES).sort())
  })

  for (const [file, expected] of Object.entries(CASES)) {
    describe(file, () => {
      const options = optionsFor(file)

      it("decodes the whole file with the expected version and record counts, cleanly", () => {
        const out = decodeWhole(dbnBytes(file), options)
        assert.strictEqual(out.fatal, undefined)
        assert.strictEqual(out.finish, undefined)
        assert.strictEqual(out.skippedUnknown, 0)
        assert.strictEqual(out.skippedMalformed, 0)
        assert.deepStrictEqual(out.problems, [])
        if (expected.version === "frag") assert.strictEqual(out.metadata, undefined)
        else assert.strictEqual(out.metadata?.version, expected.version)
        assert.deepStrictEqual(countByTag(out.records), expected.counts)
      })

      it("decodes identically when fed one byte at a time", () => {
        const bytes = dbnBytes(file)
        const split = decodeSplit(bytes, everyByte(bytes.length), options)
        assert.deepStrictEqual(split.records, decodeWhole(bytes, options).records)
        assert.strictEqual(split.finish, undefined)
      })

      it("decodes identically at seeded random split points", () => {
        const bytes = dbnBytes(file)
        const whole = decodeWhole(bytes, options)
        for (const seed of [1, 2, 3]) {
          const split = decodeSplit(bytes, randomCuts(bytes.length, seed), options)
          assert.deepStrictEqual(split.records, whole.records)
          assert.deepStrictEqual(split.metadata, whole.metadata)
          assert.strictEqual(split.finish, undefined)
        }
      })

      it("decodes identically when every batch is recycled into the next drain", () => {
        const bytes = dbnBytes(file)
        const recycled = decodeSplit(bytes, randomCuts(bytes.length, 5, 20_000), options, true)
        assert.deepStrictEqual(recycled.records, decodeWhole(bytes, options).records)
      })
    })
  }
})
