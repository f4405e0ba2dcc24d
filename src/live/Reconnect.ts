/**
 * The reconnect policy of the live client: jittered exponential backoff with a cap, retrying only what
 * reconnecting can fix. shared/spec/databento.md §9; STYLE.md "Live connection: reconnect and resume".
 */
import { Schedule } from "effect"
import { type GatewayError, isRetryable } from "./GatewayError.js"
import type { LiveSettings } from "./LiveConfig.js"

/**
 * `exponential(base)` jittered (×0.8–1.2), in union with `spaced(max)`: a union recurs with the smaller of the two
 * delays, so the delay grows from `base` and stays at exactly `max` once it gets there (tested over thousands of
 * steps: no overflow). Non-retryable errors (Auth, a rejected subscription) end it.
 */
export const policy = (settings: Pick<LiveSettings, "reconnectBase" | "reconnectMaxDelay">) =>
  Schedule.exponential(settings.reconnectBase).pipe(
    Schedule.jittered,
    Schedule.union(Schedule.spaced(settings.reconnectMaxDelay)),
    Schedule.whileInput((e: GatewayError) => isRetryable(e))
  )
