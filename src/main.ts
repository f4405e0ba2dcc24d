/** Entry point (`node dist/main.js`): the command tree on the Node runtime. */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Console, Effect, Layer, Option } from "effect"
import * as Cli from "./app/Cli.js"
import * as Logging from "./app/Logging.js"

/** A configuration error names its variable (its text form carries the path); anything else says its message. */
const messageOf = (e: unknown): string =>
  ConfigError.isConfigError(e)
    ? String(e)
    : typeof e === "object" && e !== null && "message" in e
    ? String(e.message)
    : String(e)

/** One clear line per expected failure (usage errors are printed by @effect/cli itself); defects in full. */
const report = (cause: Cause.Cause<unknown>) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.void
  return Option.match(Cause.failureOption(cause), {
    onNone: () => Console.error(Cause.pretty(cause)),
    onSome: (e) => ValidationError.isValidationError(e) ? Effect.void : Console.error(`error: ${messageOf(e)}`)
  })
}

const program = Cli.run(process.argv).pipe(
  Effect.tapErrorCause(report),
  Effect.provide(Layer.merge(NodeContext.layer, Logging.layer))
)

NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
