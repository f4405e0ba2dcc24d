/** Entry point (`node dist/main.js`): the command tree on the Node runtime. */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer } from "effect"
import * as Cli from "./app/Cli.js"
import * as Logging from "./app/Logging.js"

const program = Cli.run(process.argv).pipe(
  // One clear line per failure; @effect/cli prints its own usage errors.
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.void
      : Cause.failureOption(cause)._tag === "Some"
      ? (ValidationError.isValidationError(Cause.failureOption(cause).pipe((o) => o._tag === "Some" ? o.value : undefined))
        ? Effect.void
        : Console.error(`error: ${messageOf(Cause.squash(cause))}`))
      : Console.error(Cause.pretty(cause))
  ),
  Effect.provide(Layer.merge(NodeContext.layer, Logging.layer))
)

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message
  if (typeof e === "object" && e !== null && "message" in e) return String((e as { message: unknown }).message)
  return String(e)
}

NodeRuntime.runMain(program, { disableErrorReporting: true })
