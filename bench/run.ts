/**
 * `npm run bench`: decode, engine and end-to-end throughput plus peak RSS, written into BENCHMARKS.md
 * with the machine and date. A benchmark, never a test.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export interface Section {
  readonly title: string
  readonly lines: ReadonlyArray<string>
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const machine = (): string => {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? "unknown CPU"} × ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Node ${process.version}, ${os.platform()} ${os.release()}`
}

const main = async () => {
  const only = process.argv.slice(2)
  const sections: Array<Section> = []
  const suites: Array<[string, () => Promise<Section>]> = [
    ["decode", async () => (await import("./dbn.js")).benchDecode()],
    ["engine", async () => (await import("./engine.js")).benchEngine()],
    ["e2e", async () => (await import("./e2e.js")).benchEndToEnd()],
    ["live", async () => (await import("./live.js")).benchLive()]
  ]
  for (const [name, suite] of suites) {
    if (only.length > 0 && !only.includes(name)) continue
    console.error(`bench: ${name}…`)
    const section = await suite()
    for (const line of section.lines) console.log(line)
    sections.push(section)
  }
  const date = new Date().toISOString().slice(0, 10)
  const body = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (`bench/run.ts`); numbers are medians of several runs unless stated.",
    "",
    `- Date: ${date}`,
    `- Machine: ${machine()}`,
    "",
    ...sections.flatMap((s) => [`## ${s.title}`, "", ...s.lines, ""])
  ].join("\n")
  if (only.length === 0) fs.writeFileSync(path.join(root, "BENCHMARKS.md"), body)
  else console.error("bench: partial run, BENCHMARKS.md left as it is")
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
