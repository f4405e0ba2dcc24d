import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Zstd from "../../src/dbn/Zstd.js"
import { cli } from "../support/Cli.js"
import { fixture, fixturesPresent } from "../support/Fixtures.js"
import { makeTempDir } from "../support/TempDir.js"


describe("command line", () => {
  it("lists every command in --help", async () => {
    const r = await cli(["--help"])
    assert.strictEqual(r.code, 0)
    for (const c of ["replay", "sim", "dbn", "export", "prune"]) assert.include(r.stdout, c)
  })

  it.skipIf(!fixturesPresent)("dumps a v3 MBO file as dbn-style JSON lines with the metadata first", async () => {
    const r = await cli(["dbn", "dump", "--json", "--metadata", fixture("dbn/test_data.mbo.v3.dbn.zst")])
    assert.strictEqual(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l))
    assert.strictEqual(lines.length, 3)
    assert.strictEqual(lines[0].dataset, "GLBX.MDP3")
    const rec = lines[1]
    assert.deepStrictEqual(rec.hd, { ts_event: "1609160400000429831", rtype: 160, publisher_id: 1, instrument_id: 5482 })
    assert.strictEqual(rec.order_id, "647784973705")
    assert.strictEqual(rec.price, "3722750000000")
    assert.strictEqual(rec.action, "C")
    assert.strictEqual(rec.side, "A")
    assert.strictEqual(rec.ts_recv, "1609160400000704060")
  })

  it.skipIf(!fixturesPresent)("reads standard input when the file is -", async () => {
    const r = await cli(["dbn", "dump", "-"], fs.readFileSync(fixture("dbn/test_data.trades.dbn")))
    assert.strictEqual(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l))
    assert.deepStrictEqual(lines.map((l) => l.size), [5, 21])
  })

  it.skipIf(!fixturesPresent)("prints the records before a truncation, then a one-line error with the byte offset and exit code 1", async () => {
    const dir = makeTempDir()
    try {
      const whole = fs.readFileSync(fixture("dbn/test_data.mbo.v3.dbn"))
      const cut = path.join(dir, "cut.dbn")
      fs.writeFileSync(cut, whole.subarray(0, whole.length - 10))
      const r = await cli(["dbn", "dump", cut])
      assert.strictEqual(r.code, 1)
      assert.strictEqual(r.stdout.trim().split("\n").length, 1)
      assert.match(r.stderr, /Truncated.*byte \d+/)
      assert.strictEqual(r.stderr.trim().split("\n").length, 1)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("fails with a clear one-line error and a non-zero exit code on a missing file", async () => {
    const dir = makeTempDir()
    try {
      const r = await cli(["replay", path.join(dir, "nope.dbn"), "--db", path.join(dir, "x.sqlite")])
      assert.notStrictEqual(r.code, 0)
      assert.match(r.stderr, /NotFound.*nope\.dbn/)
      assert.strictEqual(r.stderr.trim().split("\n").length, 1)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("fails with a clear error when the database can not be written", async () => {
    const dir = makeTempDir()
    try {
      const sim = path.join(dir, "s.dbn")
      assert.strictEqual((await cli(["sim", "--out", sim, "--records", "20000", "--seed", "2"])).code, 0)
      const r = await cli(["replay", sim, "--db", path.join(dir, "no-such-dir", "x.sqlite")])
      assert.notStrictEqual(r.code, 0)
      assert.match(r.stderr, /StoreError|Open/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("sim --out NAME.dbn.zst writes the session zstd-compressed, and its replay stores the same windows", async () => {
    const dir = makeTempDir()
    try {
      const plain = path.join(dir, "s.dbn")
      const zst = path.join(dir, "s.dbn.zst")
      for (const out of [plain, zst]) {
        assert.strictEqual((await cli(["sim", "--out", out, "--records", "20000", "--seed", "2"])).code, 0)
      }
      assert.isTrue(Zstd.isZstd(new Uint8Array(fs.readFileSync(zst))))
      assert.isBelow(fs.statSync(zst).size, fs.statSync(plain).size / 2)
      const exported: Array<string> = []
      for (const file of [plain, zst]) {
        const db = `${file}.sqlite`
        assert.strictEqual((await cli(["replay", file, "--db", db])).code, 0)
        exported.push((await cli(["export", "windows", "--db", db, "--format", "csv"])).stdout)
      }
      assert.isAbove(exported[0]!.split("\n").length, 100)
      assert.strictEqual(exported[1], exported[0])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("names the variable in a one-line error when a setting from the environment is not valid", async () => {
    const dir = makeTempDir()
    try {
      const sim = path.join(dir, "s.dbn")
      assert.strictEqual((await cli(["sim", "--out", sim, "--records", "20000", "--seed", "2"])).code, 0)
      const r = await cli(["replay", sim, "--db", path.join(dir, "x.sqlite")], undefined, { IFD_WINDOW_GRACE_MS: "abc" })
      assert.strictEqual(r.code, 1)
      assert.strictEqual(r.stderr.trim().split("\n").length, 1)
      assert.match(r.stderr, /^error: .*IFD_WINDOW_GRACE_MS.*integer/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("writes the session of the trading day given by sim --date, and refuses a weekend or a date that does not exist", async () => {
    const dir = makeTempDir()
    try {
      const file = path.join(dir, "d.dbn")
      const ok = await cli(["sim", "--out", file, "--records", "20000", "--date", "2026-06-03"])
      assert.strictEqual(ok.code, 0, ok.stderr)
      const dump = await cli(["dbn", "dump", "--json", "--metadata", file])
      const lines = dump.stdout.trim().split("\n").map((l) => JSON.parse(l))
      const firstRecord = lines.find((l) => l.hd !== undefined)
      assert.strictEqual(new Date(Number(BigInt(firstRecord.hd.ts_event) / 1_000_000n)).toISOString().slice(0, 10), "2026-06-03")
      for (const [date, why] of [["2026-06-06", /2026-06-06 is a weekend/], ["2026-02-30", /not a calendar date/]] as const) {
        const r = await cli(["sim", "--out", path.join(dir, "x.dbn"), "--records", "20000", "--date", date])
        assert.strictEqual(r.code, 1)
        assert.match(r.stderr, why)
        assert.isFalse(fs.existsSync(path.join(dir, "x.dbn")))
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("generates consecutive trading days with --days, so each day's baselines see the days before it", async () => {
    const dir = makeTempDir()
    try {
      const db = path.join(dir, "ifd.sqlite")
      const r = await cli(["replay", "--days", "3", "--records", "30000", "--seed", "4711", "--db", db])
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /replay of 3 file\(s\)/)
      for (const day of ["2026-11-16", "2026-11-17", "2026-11-18"]) assert.include(r.stderr, `(${day}, seed`)
      // The generated sessions were in a directory of the run's own, and it is gone.
      const generated = [...r.stderr.matchAll(/into (\S+\.dbn) \(removed at the end\)/g)].map((m) => m[1]!)
      assert.strictEqual(generated.length, 3)
      assert.strictEqual(new Set(generated.map((f) => path.dirname(f))).size, 1)
      assert.isFalse(fs.existsSync(path.dirname(generated[0]!)))
      assert.match(r.stdout, /signals\s+0 reported \(baselines from 2 earlier trading day\(s\), 5 needed/)
      const none = await cli(["replay", "--days", "0", "--db", db])
      assert.strictEqual(none.code, 1)
      assert.match(none.stderr, /^error: .*--days must be at least 1/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("replays a generated session, then exports its windows as CSV and the per-strike rollup as JSON lines", async () => {
    const dir = makeTempDir()
    try {
      const sim = path.join(dir, "s.dbn")
      const db = path.join(dir, "ifd.sqlite")
      const trades = path.join(dir, "trades.jsonl")
      assert.strictEqual((await cli(["sim", "--out", sim, "--records", "50000", "--seed", "5"])).code, 0)
      const r = await cli(["replay", sim, "--db", db, "--trades-out", trades])
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /windows\s+[\d,]+ stored/)
      // A new database has no history: the summary says why no signal could be reported.
      assert.match(r.stdout, /signals\s+0 reported \(baselines from 0 earlier trading day\(s\), 5 needed/)
      const tradeLines = fs.readFileSync(trades, "utf8").trim().split("\n").map((l) => JSON.parse(l))
      assert.isAbove(tradeLines.length, 0)
      for (const t of tradeLines.slice(0, 50)) {
        assert.match(t.ts_event, /^\d+$/)
        assert.include(["BUY", "SELL", "UNKNOWN"], t.side)
        assert.include(["aggressor", "quote", "tick", "none"], t.rule)
        assert.match(t.price, /^\d+(\.\d+)?$/)
      }
      const csv = await cli(["export", "windows", "--db", db, "--format", "csv"])
      assert.strictEqual(csv.code, 0, csv.stderr)
      const rows = csv.stdout.trim().split("\n")
      assert.match(rows[0]!, /^window_start,expiration,strike,option_type,bid_volume,ask_volume,pressure_ratio,total_trades,avg_trade_size,dominant_side/)
      assert.isAbove(rows.length, 1)
      const byStrike = await cli(["export", "windows", "--db", db, "--by", "strike"])
      assert.strictEqual(byStrike.code, 0, byStrike.stderr)
      const first = JSON.parse(byStrike.stdout.split("\n")[0]!)
      assert.notProperty(first, "expiration")
      assert.match(first.window_start, /^\d{4}-\d\d-\d\dT\d\d:\d[05]:00\.000Z$/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
