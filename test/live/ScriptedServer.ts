/**
 * A loopback TCP server whose replies a test scripts by hand, for the control-line handshake at the byte level
 * (the full protocol peer is src/testing/FakeGateway.ts).
 */
import { Effect, type Scope } from "effect"
import * as Net from "node:net"
import { LineReader } from "../../src/live/Gateway.js"

export interface Peer {
  /** Lines received so far (without newlines). */
  readonly lines: Array<string>
  /** Resolves with the next line received. */
  readonly nextLine: () => Promise<string>
  readonly write: (bytes: Uint8Array | string) => Promise<void>
  readonly socket: Net.Socket
}

/** Serves each connection with `script`; returns the port. Closed with the scope. */
export const scripted = (script: (peer: Peer) => Promise<void>): Effect.Effect<number, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Net.Server; sockets: Set<Net.Socket>; port: number }>((resume) => {
      const sockets = new Set<Net.Socket>()
      const server = Net.createServer((socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => {})
        socket.setNoDelay(true)
        const reader = new LineReader()
        const lines: Array<string> = []
        const waiting: Array<(line: string) => void> = []
        let taken = 0
        socket.on("data", (b) => {
          reader.push(b)
          let line: string | undefined
          while ((line = reader.next()) !== undefined) {
            lines.push(line)
            const w = waiting.shift()
            if (w !== undefined) {
              taken++
              w(line)
            }
          }
        })
        const peer: Peer = {
          lines,
          nextLine: () =>
            taken < lines.length ? Promise.resolve(lines[taken++]!) : new Promise((resolve) => waiting.push(resolve)),
          write: (bytes) =>
            new Promise((resolve) => {
              if (socket.destroyed) return resolve()
              socket.write(bytes, () => resolve())
            }),
          socket
        }
        script(peer).catch(() => socket.destroy())
      })
      server.listen(0, "127.0.0.1", () => {
        const a = server.address()
        resume(Effect.succeed({ server, sockets, port: typeof a === "object" && a !== null ? a.port : 0 }))
      })
    }),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((s) => s.port))
