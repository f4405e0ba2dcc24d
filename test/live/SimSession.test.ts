import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Logger, Redacted, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { DecodedChunk } from "../../src/dbn/Batch.js"
import { DbnDecoder } from "../../src/dbn/Decoder.js"
import * as LiveConfig from "../../src/live/LiveConfig.js"
import * as LiveStatus from "../../src/live/LiveStatus.js"
import * as LiveSource from "../../src/live/LiveSource.js"
import { writeSessionFile } from "../../src/sim/SimFile.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"

const KEY = "db-unittestapikey1234567890FFFFF"

const rowsOf = (c: DecodedChunk, into: Array<string>): void => {
  const m = c.mbo
  for (let i = 0; i < m.length; i++) {
    into.push(`${m.instrumentId[i]} ${m.tsEventHi[i]}:${m.tsEventLo[i]} ${m.orderIdHi[i]}:${m.orderIdLo[i]} ` +
      `${m.priceHi[i]}:${m.priceLo[i]} ${m.size[i]} ${m.action[i]} ${m.side[i]} ${m.sequence[i]} ${m.flags[i]}`)
  }
}

const tempFile = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "ifd-live-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => path.join(dir, "session.dbn")))

describe("live against a simulated NQ options session", () => {
  it.scopedLive("streams a simulator DBN file served by the fake gateway, exactly, across drops", () =>
    Effect.gen(function*() {
      const file = yield* tempFile
      writeSessionFile(file, { seed: 3, targetRecords: 40_000, sessionMinutes: 30, expirations: 2, strikesPerExpiration: 10 })
      const decoder = new DbnDecoder()
      decoder.push(new Uint8Array(fs.readFileSync(file)))
      const whole = decoder.drain()
      const expected: Array<string> = []
      rowsOf(whole, expected)
      const definitions = new Set(whole.others.filter((o) => o._tag === "definition").map((o) => o.hd.instrument_id))

      const gw = yield* FakeGateway.serve({
        apiKey: KEY,
        data: FakeGateway.file(file),
        faults: (i) => (i < 6 ? { dropAfterRecords: 7000 + i * 111 } : undefined)
      })
      const settings: LiveConfig.LiveSettings = {
        ...LiveConfig.defaults,
        apiKey: Redacted.make(KEY),
        host: "127.0.0.1",
        port: gw.port,
        reconnectBase: Duration.millis(1),
        reconnectMaxDelay: Duration.millis(10)
      }
      const rows: Array<string> = []
      const seenDefinitions = new Set<number>()
      yield* LiveSource.gatewayStream(settings, undefined).pipe(
        Stream.takeUntil((c) => {
          rowsOf(c, rows)
          for (const o of c.others) if (o._tag === "definition") seenDefinitions.add(o.hd.instrument_id)
          return rows.length >= expected.length
        }),
        Stream.runDrain
      )
      assert.strictEqual(rows.length, expected.length)
      for (let i = 0; i < expected.length; i++) {
        if (rows[i] !== expected[i]) assert.fail(`row ${i}: got ${rows[i]}, want ${expected[i]}`)
      }
      assert.isAbove(definitions.size, 0)
      assert.deepStrictEqual([...definitions].filter((d) => !seenDefinitions.has(d)), [])
      assert.isAtLeast(gw.connections().length, 6)
    }).pipe(Effect.provide(LiveStatus.layer), Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))),
    60_000)
})
