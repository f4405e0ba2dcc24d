/**
 * The one failure family of the live gateway client. `detail` holds safe text only: never the key, an auth
 * line, a CRAM reply or a raw driver message. shared/spec/databento.md §8.2, §8.5.
 */
import { Schema } from "effect"
import { ErrorCode } from "../dbn/Constants.js"

export class GatewayError extends Schema.TaggedError<GatewayError>()("GatewayError", {
  reason: Schema.Literal("Connect", "Auth", "Protocol", "Closed", "HeartbeatTimeout", "Gateway"),
  detail: Schema.optional(Schema.String),
  /** ErrorMsg code (§4 ErrorCode) when the gateway sent one. */
  code: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const code = this.code === undefined ? "" : ` (code ${this.code})`
    return this.detail === undefined ? `${this.reason}${code}` : `${this.reason}${code}: ${this.detail}`
  }
}

/** Gateway error codes after which trying again cannot help: the key or the subscription is wrong. */
const FATAL_CODES: ReadonlySet<number> = new Set([
  ErrorCode.AUTH_FAILED,
  ErrorCode.API_KEY_DEACTIVATED,
  ErrorCode.SYMBOL_RESOLUTION_FAILED,
  ErrorCode.INVALID_SUBSCRIPTION
])

/** Whether reconnecting may help. Auth never; a gateway error only when its code is transient. */
export const isRetryable = (e: GatewayError): boolean =>
  e.reason === "Auth" ? false : e.reason === "Gateway" ? e.code === undefined || !FATAL_CODES.has(e.code) : true
