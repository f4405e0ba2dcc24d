/**
 * `dbn dump FILE|-`: every record as one JSON line in the shape of Databento's `dbn --json`,
 * optionally the metadata first. Bytes are streamed; records decoded before an error are still printed.
 */
import { NodeSink, NodeStream } from "@effect/platform-node"
import { Effect, Stream } from "effect"
import { mboAt } from "../dbn/Batch.js"
import type { DecodedChunk } from "../dbn/Batch.js"
import * as Json from "../dbn/Json.js"
import * as Decode from "../source/Decode.js"
import { SourceError } from "../source/MarketDataSource.js"
import * as ReplaySource from "../source/ReplaySource.js"

/** The JSON lines of one decoded chunk, in stream order. */
export const chunkToLines = (chunk: DecodedChunk, withMetadata: boolean): string => {
  const lines: Array<string> = []
  if (withMetadata && chunk.metadata !== undefined) lines.push(Json.metadataToJson(chunk.metadata))
  let k = 0
  const { mbo, others, othersAt } = chunk
  for (let i = 0; i <= mbo.length; i++) {
    while (k < others.length && othersAt[k] === i) lines.push(Json.recordToJson(others[k++]!))
    if (i < mbo.length) lines.push(Json.recordToJson(mboAt(mbo, i)))
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n"
}

const stdinBytes = NodeStream.fromReadable<SourceError>(
  () => process.stdin,
  () => new SourceError({ reason: "Read", detail: "could not read standard input", path: "-" })
).pipe(
  Decode.decodeStream,
  Stream.mapError((e) =>
    e._tag === "DbnError" ? new SourceError({ reason: "Decode", detail: e.message, offset: e.offset, path: "-" }) : e
  )
)

export const run = (options: { readonly file: string; readonly metadata: boolean }) => {
  const chunks = options.file === "-" ? stdinBytes : ReplaySource.fileStream(options.file, 1 << 20)
  return chunks.pipe(
    Stream.map((chunk) => chunkToLines(chunk, options.metadata)),
    Stream.filter((s) => s.length > 0),
    Stream.run(NodeSink.fromWritable(
      () => process.stdout,
      () => new SourceError({ reason: "Read", detail: "could not write standard output" }),
      { endOnDone: false }
    )),
    Effect.withSpan("DbnDump.run")
  )
}
