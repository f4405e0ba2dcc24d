/**
 * The port every market-data source implements (replay files, the live gateway): decoded chunks
 * from a resume cursor on. Nothing downstream knows which source it has.
 */
import { Context, Schema } from "effect"
import type { Stream } from "effect"
import type { DecodedChunk } from "../dbn/Batch.js"
import type { Cursor } from "./Cursor.js"

export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  reason: Schema.Literal("NotFound", "Read", "Decode", "Gateway", "Auth", "Config"),
  /** Safe text only: never a key, an auth line or a raw driver message with secrets. */
  detail: Schema.String,
  /** Byte offset in the (decompressed) stream when the failure is a decoding one. */
  offset: Schema.optional(Schema.Number),
  path: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const where = this.path === undefined ? "" : ` in ${this.path}`
    const at = this.offset === undefined ? "" : ` at byte ${this.offset}`
    return `${this.reason}${where}${at}: ${this.detail}`
  }
}

export class MarketDataSource extends Context.Tag("ifd/source/MarketDataSource")<MarketDataSource, {
  /** A short name for logs and the runs table ("replay", "live"). */
  readonly name: string
  /** Decoded chunks in stream order, skipping everything up to and including `from`. */
  readonly stream: (from: Cursor | undefined) => Stream.Stream<DecodedChunk, SourceError>
}>() {}
