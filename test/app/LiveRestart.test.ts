/**
 * Crash safety of the `live` command: killed with SIGKILL mid-session and started again, it ends with the same
 * stored windows as an uninterrupted `replay` of the same data. Runs the built CLI (`dist/main.js`) in child
 * processes against the loopback fake gateway served in this process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { writeSimFile } from "../../src/app/Replay.js"
import * as FakeGateway from "../../src/testing/FakeGateway.js"
import { main } from "../support/Cli.js"
import { tempDir } from "../support/TempDir.js"

const apiKey = "db-localtestkeyAAAAAAAAAAAAAAAAA"

/** The part of better-sqlite3 used here (the package ships no types; the store reaches it through @effect/sql). */
interface ReadOnlyDb {
  prepare(sql: string): { get(): unknown; all(): Array<unknown> }
  close(): void
}
const Database = createRequire(import.meta.url)("better-sqlite3") as new(
  filename: string,
  options: { readonly readonly: boolean; readonly fileMustExist: boolean }
) => ReadOnlyDb

interface Child {
  readonly process: ChildProcess
  /** Exit code, or the signal's name when a signal ended it. */
  readonly exited: Promise<number | string>
  readonly stderr: () => string
}

/** `node dist/main.js …` as a child process, killed (SIGKILL) when the scope closes if it still runs. */
const node = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawn(process.execPath, [main, ...args], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let err = ""
      child.stdout!.resume()
      child.stderr!.on("data", (b: Buffer) => {
        err = (err + b.toString("utf8")).slice(-20_000)
      })
      const exited = new Promise<number | string>((resolve) =>
        child.on("exit", (code, signal) => resolve(code ?? signal ?? -1))
      )
      return { process: child, exited, stderr: () => err }
    }),
    (c) => Effect.sync(() => c.process.exitCode === null && c.process.signalCode === null && c.process.kill("SIGKILL"))
  )

const exitOf = (c: Child, within: Duration.DurationInput) =>
  Effect.promise(() => c.exited).pipe(
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`child did not exit within ${Duration.format(within)}: ${c.stderr()}`)
    })
  )

/** Reads the database read-only; undefined until the file and its tables exist. */
const query = <A>(db: string, f: (d: ReadOnlyDb) => A): A | undefined => {
  if (!fs.existsSync(db)) return undefined
  let d: ReadOnlyDb | undefined
  try {
    d = new Database(db, { readonly: true, fileMustExist: true })
    return f(d)
  } catch {
    return undefined
  } finally {
    d?.close()
  }
}

const windowCount = (db: string): number =>
  query(db, (d) => (d.prepare("SELECT count(*) AS n FROM windows").get() as { n: number }).n) ?? 0

const hasCheckpoint = (db: string): boolean =>
  query(db, (d) => d.prepare("SELECT 1 FROM checkpoints WHERE source = 'live'").get() !== undefined) ?? false

/** Records the replay run read (every record in the file, as the fake gateway indexes them). */
const recordsIn = (db: string): number =>
  query(db, (d) => (d.prepare("SELECT records FROM runs WHERE status = 'done'").get() as { records: number }).records) ??
    0

/** Every stored window but its wall-clock `updated_at`, in primary-key order. */
const storedWindows = (db: string): Array<Record<string, unknown>> =>
  query(db, (d) =>
    (d.prepare("SELECT * FROM windows ORDER BY window_start, expiration, strike, option_type").all() as Array<
      Record<string, unknown>
    >).map(({ updated_at: _, ...rest }) => rest)) ?? []

/** Polls `check` every 100 ms until it holds; fails with `what` after `within`. */
const until = (what: string, check: () => boolean, within: Duration.DurationInput, child?: Child) =>
  Effect.gen(function*() {
    while (!check()) {
      if (child !== undefined && (child.process.exitCode !== null || child.process.signalCode !== null)) {
        return yield* Effect.fail(new Error(`live exited while waiting for ${what}: ${child.stderr()}`))
      }
      yield* Effect.sleep("100 millis")
    }
  }).pipe(Effect.timeoutFail({
    duration: within,
    onTimeout: () => new Error(`timed out waiting for ${what}${child === undefined ? "" : `: ${child.stderr()}`}`)
  }))

describe("live command", () => {
  it.scopedLive("ends with the replay's windows after a kill -9 mid-session and a restart", () =>
    Effect.gen(function*() {
      assert.isTrue(fs.existsSync(main), "build the CLI first: npx tsc -p tsconfig.build.json")
      const dir = yield* tempDir
      const file = path.join(dir, "session.dbn")
      const replayDb = path.join(dir, "replay.sqlite")
      const liveDb = path.join(dir, "live.sqlite")
      yield* writeSimFile(file, {
        seed: 5,
        expirations: 2,
        strikesPerExpiration: 10,
        targetRecords: 150_000,
        collectTrades: false
      })

      const replay = yield* node(["replay", file, "--db", replayDb])
      assert.strictEqual(yield* exitOf(replay, "60 seconds"), 0, replay.stderr())
      const expected = storedWindows(replayDb)
      assert.isAbove(expected.length, 100)

      // The sim session spans about 6.5 h of event time: at 4000× it streams in about 6 s.
      const gateway = yield* FakeGateway.serve({ apiKey, data: FakeGateway.file(file), speed: 4000 })
      const env = {
        DATABENTO_API_KEY: apiKey,
        IFD_GATEWAY_HOST: "127.0.0.1",
        IFD_GATEWAY_PORT: String(gateway.port),
        IFD_SNAPSHOT: "false",
        // The control interface binds an ephemeral port so runs never collide.
        IFD_CONTROL_PORT: "0"
      }
      const args = ["live", "--db", liveDb, "--ignore-market-hours"]

      const first = yield* node(args, env)
      yield* until(
        "a third of the windows stored",
        () => windowCount(liveDb) >= expected.length / 3 && hasCheckpoint(liveDb),
        "60 seconds",
        first
      )
      first.process.kill("SIGKILL")
      assert.strictEqual(yield* exitOf(first, "10 seconds"), "SIGKILL")
      const atKill = windowCount(liveDb)
      assert.isBelow(atKill, expected.length, "killed before the end of the data")

      const total = recordsIn(replayDb)
      assert.isBelow(gateway.liveHead(), total, "the gateway had not sent the whole file at the kill")

      const second = yield* node(args, env)
      // The data is consumed when the gateway has sent the file's last record (it then only sends heartbeats) and
      // the stored windows stop changing; the windows still open are stored by the SIGINT finalizer.
      yield* until("the gateway to send the last record", () => gateway.liveHead() === total, "90 seconds", second)
      let last = -1
      let stableSince = Date.now()
      yield* until("the stored windows to settle", () => {
        const n = windowCount(liveDb)
        if (n !== last) {
          last = n
          stableSince = Date.now()
        }
        return Date.now() - stableSince >= 1500
      }, "60 seconds", second)
      second.process.kill("SIGINT")
      assert.strictEqual(yield* exitOf(second, "30 seconds"), 0, second.stderr())

      const actual = storedWindows(liveDb)
      assert.strictEqual(actual.length, expected.length, "window count")
      for (let i = 0; i < expected.length; i++) assert.deepStrictEqual(actual[i], expected[i], `window ${i}`)
      // The restart asked the gateway to replay (from the checkpoint − 24 h, as market hours are ignored).
      const connections = gateway.connections()
      assert.strictEqual(connections.length, 2)
      assert.isUndefined(connections[0]!.subscriptions[0]?.start)
      assert.isDefined(connections[1]!.subscriptions[0]?.start)
      assert.strictEqual(connections[1]!.firstRecord, connections[0]!.firstRecord, "replayed from the first record")
      assert.include(second.stderr(), "Resuming from a checkpoint: replaying from the session open")
    }), { timeout: 240_000 })
})
