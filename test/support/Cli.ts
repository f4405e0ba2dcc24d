/** The built entry point, run as a user runs it (`npm test` builds first). */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/main.js")

/**
 * Runs the CLI in a child process to its exit, without blocking this worker's event loop (vitest's RPC needs it:
 * `spawnSync` inside a test makes the run fail).
 */
export const cli = (args: ReadonlyArray<string>, input?: Uint8Array, env?: Record<string, string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: env === undefined ? process.env : { ...process.env, ...env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
