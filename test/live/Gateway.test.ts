import { assert, describe, it } from "@effect/vitest"
import * as Gateway from "../../src/live/Gateway.js"

const bytes = (s: string) => new TextEncoder().encode(s)

describe("Gateway control lines", () => {
  it("parses the greeting, accepting a bare first line", () => {
    assert.strictEqual(Gateway.parseGreeting("lsg_version=0.7.2").lsgVersion, "0.7.2")
    assert.isUndefined(Gateway.parseGreeting("lsg-test").lsgVersion)
  })

  it("parses the cram challenge and refuses a line without one", () => {
    assert.strictEqual(Gateway.parseChallenge("cram=t7kNhwj4xqR0QYjzFKtBEG2ec2pXJ4FK"), "t7kNhwj4xqR0QYjzFKtBEG2ec2pXJ4FK")
    assert.isUndefined(Gateway.parseChallenge("lsg_version=1"))
    assert.isUndefined(Gateway.parseChallenge("cram="))
  })

  it("formats the auth request with every field and parses it back", () => {
    const line = Gateway.formatAuthRequest({
      auth: "abc-FFFFF",
      dataset: "GLBX.MDP3",
      encoding: "dbn",
      tsOut: false,
      compression: "none",
      heartbeatIntervalS: 30,
      slowReaderBehavior: undefined,
      client: "ifd|stream\n1"
    })
    assert.strictEqual(
      line,
      "auth=abc-FFFFF|dataset=GLBX.MDP3|encoding=dbn|ts_out=0|compression=none|heartbeat_interval_s=30|client=ifd stream 1\n"
    )
    const parsed = Gateway.parseAuthRequest(line.trimEnd())
    assert.deepStrictEqual(parsed, {
      auth: "abc-FFFFF",
      dataset: "GLBX.MDP3",
      encoding: "dbn",
      tsOut: false,
      compression: "none",
      heartbeatIntervalS: 30,
      slowReaderBehavior: undefined,
      client: "ifd stream 1"
    })
  })

  it("reads an auth success with a trailing bar and extra keys", () => {
    const r = Gateway.parseAuthReply("success=1|session_id=5|")
    assert.strictEqual(r._tag, "Success")
    if (r._tag === "Success") assert.strictEqual(r.sessionId, "5")
    const extra = Gateway.parseAuthReply("session_id=77|success=1|lsg_node=a|")
    assert.deepStrictEqual(extra._tag === "Success" ? [extra.sessionId, extra.fields.get("lsg_node")] : [], ["77", "a"])
  })

  it("reads an auth failure, and a reply without success as a failure", () => {
    assert.deepStrictEqual(Gateway.parseAuthReply("success=0|error=Authentication failed."), {
      _tag: "Failure",
      error: "Authentication failed."
    })
    assert.strictEqual(Gateway.parseAuthReply("session_id=5")._tag, "Failure")
    assert.strictEqual(Gateway.parseAuthReply("success=0")._tag, "Failure")
  })

  it("formats a subscription with start, snapshot and id, and parses it back", () => {
    const [line] = Gateway.formatSubscription({
      schema: "mbo",
      stypeIn: "parent",
      symbols: ["NQ.OPT"],
      start: 1700000000123456789n,
      snapshot: true,
      id: 1
    })
    assert.strictEqual(line, "schema=mbo|stype_in=parent|symbols=NQ.OPT|start=1700000000123456789|snapshot=0|id=1|is_last=1\n")
    assert.deepStrictEqual(Gateway.parseSubscription(line!.trimEnd()), {
      schema: "mbo",
      stypeIn: "parent",
      symbols: ["NQ.OPT"],
      start: 1700000000123456789n,
      snapshot: false,
      id: 1,
      isLast: true
    })
    const [snap] = Gateway.formatSubscription({ schema: "mbo", stypeIn: "parent", symbols: ["NQ.OPT"], snapshot: true })
    assert.strictEqual(snap, "schema=mbo|stype_in=parent|symbols=NQ.OPT|snapshot=1|is_last=1\n")
  })

  it("chunks subscriptions at 500 symbols with is_last only on the final line", () => {
    const symbols = Array.from({ length: 1001 }, (_, i) => `S${i}`)
    const lines = Gateway.formatSubscription({ schema: "definition", stypeIn: "raw_symbol", symbols, id: 3 })
    assert.strictEqual(lines.length, 3)
    const parsed = lines.map((l) => Gateway.parseSubscription(l.trimEnd())!)
    assert.deepStrictEqual(parsed.map((p) => p.symbols.length), [500, 500, 1])
    assert.deepStrictEqual(parsed.map((p) => p.isLast), [false, false, true])
    assert.deepStrictEqual(parsed.map((p) => p.id), [3, 3, 3])
    assert.deepStrictEqual(parsed.flatMap((p) => p.symbols), symbols)
  })

  it("recognises both forms of start_session", () => {
    assert.strictEqual(Gateway.START_SESSION, "start_session\n")
    assert.isTrue(Gateway.isStartSession("start_session"))
    assert.isTrue(Gateway.isStartSession("start_session=0"))
    assert.isFalse(Gateway.isStartSession("schema=mbo"))
  })
})

describe("LineReader", () => {
  const script = "lsg_version=0.1.0\ncram=abc\nsuccess=1|session_id=9|\n"

  it("splits lines merged into one read and hands back the bytes after them", () => {
    const r = new Gateway.LineReader()
    r.push(new Uint8Array([...bytes(script), 0x44, 0x42, 0x4e, 0x03]))
    assert.deepStrictEqual([r.next(), r.next(), r.next(), r.next()], [
      "lsg_version=0.1.0",
      "cram=abc",
      "success=1|session_id=9|",
      undefined
    ])
    assert.deepStrictEqual([...r.rest()], [0x44, 0x42, 0x4e, 0x03])
    assert.strictEqual(r.pending, 0)
  })

  it("reassembles lines fed one byte at a time", () => {
    const r = new Gateway.LineReader()
    const lines: Array<string> = []
    for (const b of bytes(script)) {
      r.push(new Uint8Array([b]))
      let l: string | undefined
      while ((l = r.next()) !== undefined) lines.push(l)
    }
    assert.deepStrictEqual(lines, ["lsg_version=0.1.0", "cram=abc", "success=1|session_id=9|"])
  })

  it("accepts CRLF endings and grows past its initial buffer", () => {
    const r = new Gateway.LineReader()
    const long = "x".repeat(5000)
    r.push(bytes(`${long}\r\nb\n`))
    assert.strictEqual(r.next(), long)
    assert.strictEqual(r.next(), "b")
  })

  it("flags a line that never ends", () => {
    const r = new Gateway.LineReader()
    r.push(new Uint8Array(Gateway.MAX_LINE_BYTES + 1).fill(0x41))
    assert.isTrue(r.overflowed)
    assert.isUndefined(r.next())
  })
})
