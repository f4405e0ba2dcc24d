/**
 * The live gateway's challenge-response authentication (CRAM): the one place the API key is unwrapped.
 * shared/spec/databento.md §8.2.
 */
import { createHash } from "node:crypto"
import { Redacted } from "effect"

/** Characters of the key, counted from its end, that name the key's bucket. */
export const BUCKET_ID_LENGTH = 5

/** `sha256_hex(challenge + "|" + key) + "-" + last 5 characters of the key`. */
export const reply = (challenge: string, apiKey: Redacted.Redacted<string>): string => {
  const key = Redacted.value(apiKey)
  const hex = createHash("sha256").update(`${challenge}|${key}`, "utf8").digest("hex")
  return `${hex}-${key.slice(-BUCKET_ID_LENGTH)}`
}

/** Verifies a CRAM reply (used by the fake gateway). */
export const verify = (challenge: string, apiKey: Redacted.Redacted<string>, answer: string): boolean =>
  reply(challenge, apiKey) === answer

/**
 * Removes the key from text that came from outside (a gateway error message) before it can reach a log or an
 * error: defence in depth, the gateway has no reason to echo it.
 */
export const scrub = (text: string, apiKey: Redacted.Redacted<string>): string => {
  const key = Redacted.value(apiKey)
  return key.length === 0 ? text : text.split(key).join("<redacted>")
}
