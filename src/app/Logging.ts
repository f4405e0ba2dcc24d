/**
 * Logging for every command: to standard error (standard output carries data: dumps, exports),
 * logfmt or JSON (`IFD_LOG_FORMAT=json`), level from `IFD_LOG_LEVEL` (default Info).
 */
import { Config, Effect, Layer, Logger, LogLevel } from "effect"

export const config = Config.all({
  format: Config.literal("logfmt", "json", "pretty")("IFD_LOG_FORMAT").pipe(
    Config.withDefault("logfmt" as const),
    Config.withDescription("Log line format: logfmt, json or pretty")
  ),
  level: Config.logLevel("IFD_LOG_LEVEL").pipe(
    Config.withDefault(LogLevel.Info),
    Config.withDescription("Minimum log level: All, Trace, Debug, Info, Warning, Error, Fatal, None")
  )
})

export const layer = Layer.unwrapEffect(Effect.map(config, ({ format, level }) => {
  const base = format === "json" ? Logger.jsonLogger : format === "pretty" ? Logger.prettyLogger() : Logger.logfmtLogger
  return Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.withConsoleError(base)),
    Logger.minimumLogLevel(level)
  )
}))
