import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Redacted } from "effect"
import * as LiveConfig from "../../src/live/LiveConfig.js"

const KEY = "db-unittestapikey1234567890FFFFF"
const load = (env: Record<string, string>) =>
  Effect.either(Effect.withConfigProvider(LiveConfig.config, ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("LiveConfig", () => {
  it.effect("defaults to the GLBX.MDP3 gateway, NQ.OPT by parent, mbo + definition, 30 s heartbeats", () =>
    Effect.gen(function*() {
      const c = yield* Effect.flatMap(load({ DATABENTO_API_KEY: KEY }), Either.match({ onLeft: Effect.die, onRight: Effect.succeed }))
      assert.strictEqual(c.host, "glbx-mdp3.lsg.databento.com")
      assert.strictEqual(c.port, 13000)
      assert.strictEqual(c.dataset, "GLBX.MDP3")
      assert.deepStrictEqual(c.symbols, ["NQ.OPT"])
      assert.strictEqual(c.stypeIn, "parent")
      assert.deepStrictEqual(c.schemas, ["mbo", "definition"])
      assert.strictEqual(Duration.toSeconds(c.heartbeat), 30)
      assert.strictEqual(Redacted.value(c.apiKey), KEY)
      assert.isUndefined(c.giveUpAfter)
    }))

  it.effect("derives the host from IFD_DATASET unless IFD_GATEWAY_HOST is set", () =>
    Effect.gen(function*() {
      const a = yield* load({ DATABENTO_API_KEY: KEY, IFD_DATASET: "XNAS.ITCH", IFD_SYMBOLS: "AAPL, MSFT" })
      assert.isTrue(Either.isRight(a))
      if (Either.isRight(a)) {
        assert.strictEqual(a.right.host, "xnas-itch.lsg.databento.com")
        assert.deepStrictEqual(a.right.symbols, ["AAPL", "MSFT"])
      }
      const b = yield* load({ DATABENTO_API_KEY: KEY, IFD_GATEWAY_HOST: "127.0.0.1", IFD_GATEWAY_PORT: "4000" })
      if (Either.isRight(b)) assert.deepStrictEqual([b.right.host, b.right.port], ["127.0.0.1", 4000])
      else assert.fail("expected a config")
    }))

  it.effect("rejects a malformed key with a clear message that does not quote it", () =>
    Effect.gen(function*() {
      for (const bad of ["xx-unittestapikey1234567890FFFFF", "db-short", "db-unittestapikey1234567890FFFFFX"]) {
        const r = yield* load({ DATABENTO_API_KEY: bad })
        assert.isTrue(Either.isLeft(r))
        if (Either.isLeft(r)) {
          const text = String(r.left)
          assert.include(text, "DATABENTO_API_KEY")
          assert.notInclude(text, bad)
        }
      }
      const missing = yield* load({})
      assert.isTrue(Either.isLeft(missing) && String(missing.left).includes("DATABENTO_API_KEY"))
    }))

  it.effect("bounds the heartbeat interval to the gateway's 5..1800 s", () =>
    Effect.gen(function*() {
      assert.isTrue(Either.isLeft(yield* load({ DATABENTO_API_KEY: KEY, IFD_HEARTBEAT_S: "2" })))
      const ok = yield* load({ DATABENTO_API_KEY: KEY, IFD_HEARTBEAT_S: "10", IFD_LIVE_START: "2024-01-02T00:00:00Z" })
      if (Either.isRight(ok)) {
        assert.strictEqual(Duration.toSeconds(ok.right.heartbeat), 10)
        assert.strictEqual(ok.right.start, 1704153600000000000n)
      } else assert.fail(String(ok.left))
    }))
})
