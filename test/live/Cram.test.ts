import { assert, describe, it } from "@effect/vitest"
import { Redacted } from "effect"
import * as Cram from "../../src/live/Cram.js"

const key = Redacted.make("db-unittestapikey1234567890FFFFF")

describe("Cram", () => {
  it("answers the spec's challenge vector", () => {
    assert.strictEqual(
      Cram.reply("abcd1234", key),
      "be87ce3d564b64481d4ad1902e2b41b26e3eef62b9de37d87eb4a1d4a5199b6f-FFFFF"
    )
  })

  it("verifies its own reply and rejects another key's", () => {
    const answer = Cram.reply("xyz", key)
    assert.isTrue(Cram.verify("xyz", key, answer))
    assert.isFalse(Cram.verify("xyz", Redacted.make("db-otherkeyotherkeyotherkey0FFFFF"), answer))
    assert.isFalse(Cram.verify("xyZ", key, answer))
  })

  it("scrubs the key out of text that echoes it", () => {
    assert.strictEqual(Cram.scrub("bad key db-unittestapikey1234567890FFFFF!", key), "bad key <redacted>!")
  })
})
