/**
 * The command tree behind `node dist/main.js` (`--help` lists every command).
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as Control from "./Control.js"
import * as Backfill from "./Backfill.js"
import * as DbnDump from "./DbnDump.js"
import * as Export from "./Export.js"
import * as Live from "./Live.js"
import * as Replay from "./Replay.js"
import * as Report from "./Report.js"
import * as Signals from "./Signals.js"
import * as Spending from "./Spending.js"
import { formatStatus } from "./Status.js"

const db = Options.file("db").pipe(
  Options.withDescription("SQLite database file (default ./ifd.sqlite, or IFD_DB)"),
  Options.optional
)

const replay = Command.make(
  "replay",
  {
    files: Args.path({ name: "files" }).pipe(
      Args.withDescription("DBN files (.dbn, .dbn.zst) or folders of them; none = a generated NQ options session"),
      Args.repeated
    ),
    db,
    speed: Options.float("speed").pipe(
      Options.withDescription("Pace by event time at this multiple of real time (0 = as fast as possible)"),
      Options.withDefault(0)
    ),
    tradesOut: Options.file("trades-out").pipe(
      Options.withDescription("Write every classified trade as JSON lines to this file"),
      Options.optional
    ),
    seed: Options.integer("seed").pipe(
      Options.withDescription("Seed of the generated session when no file is given"),
      Options.withDefault(1)
    ),
    records: Options.integer("records").pipe(
      Options.withDescription("Approximate record count of the generated session when no file is given"),
      Options.optional
    ),
    days: Options.integer("days").pipe(
      Options.withDescription(
        "Generated sessions when no file is given: consecutive trading days (6 gives the last day the 5 days of history its baselines need)"
      ),
      Options.withDefault(1)
    ),
    serve: Options.boolean("serve").pipe(Options.withDescription(
      "Serve the control interface and live dashboard (IFD_CONTROL_HOST/PORT) during the run, and after it until Ctrl-C"
    ))
  },
  (o) =>
    Replay.run({
      files: o.files,
      db: Option.getOrUndefined(o.db),
      speed: o.speed,
      tradesOut: Option.getOrUndefined(o.tradesOut),
      seed: o.seed,
      records: Option.getOrUndefined(o.records),
      days: o.days,
      serve: o.serve
    })
).pipe(Command.withDescription("Replay DBN files (or a generated session) through the pipeline into SQLite"))

const dump = Command.make(
  "dump",
  {
    file: Args.text({ name: "file" }).pipe(Args.withDescription("A .dbn or .dbn.zst file, or - for standard input")),
    json: Options.boolean("json").pipe(Options.withDescription("JSON lines (the default and only format)")),
    metadata: Options.boolean("metadata").pipe(Options.withDescription("Print the metadata as the first line"))
  },
  (o) => DbnDump.run({ file: o.file, metadata: o.metadata })
).pipe(Command.withDescription("Print every record of a DBN file as JSON lines, like Databento's dbn --json"))

const dbn = Command.make("dbn").pipe(
  Command.withDescription("DBN file tools"),
  Command.withSubcommands([dump])
)

const format = Options.choice("format", ["jsonl", "csv"]).pipe(
  Options.withDescription("Output format"),
  Options.withDefault("jsonl" as const)
)

const exportWindows = Command.make(
  "windows",
  {
    db,
    by: Options.choice("by", ["strike"]).pipe(
      Options.withDescription("strike: roll up across expirations per strike and option type"),
      Options.optional
    ),
    format
  },
  (o) =>
    Export.windows({ db: Option.getOrUndefined(o.db), byStrike: Option.isSome(o.by), format: o.format })
).pipe(Command.withDescription("Export stored pressure windows"))

const exportSignals = Command.make(
  "signals",
  {
    db,
    format,
    all: Options.boolean("all").pipe(Options.withDescription("Every measured window, not only reported signals"))
  },
  (o) => Signals.exportSignals({ db: Option.getOrUndefined(o.db), format: o.format, all: o.all })
).pipe(Command.withDescription("Export stored signals (direction, confidence, tier, score, features)"))

const exportCommand = Command.make("export").pipe(
  Command.withDescription("Export stored data"),
  Command.withSubcommands([exportWindows, exportSignals])
)

const baseline = Command.make(
  "baseline",
  {
    db,
    days: Options.integer("days").pipe(Options.withDescription("Trading days of history"), Options.withDefault(20))
  },
  (o) => Signals.baseline({ db: Option.getOrUndefined(o.db), days: o.days })
).pipe(Command.withDescription("Recompute the next trading day's baselines from stored windows"))

const prune = Command.make(
  "prune",
  {
    db,
    olderThanDays: Options.integer("older-than-days").pipe(
      Options.withDescription("Roll windows older than this many days into daily summaries and delete them"),
      Options.withDefault(30)
    )
  },
  (o) => Export.prune({ db: Option.getOrUndefined(o.db), olderThanDays: o.olderThanDays })
).pipe(Command.withDescription("Apply the retention policy"))

const budget = Command.make(
  "budget",
  {
    db,
    json: Options.boolean("json").pipe(Options.withDescription("Print the report as JSON"))
  },
  (o) => Spending.run({ db: Option.getOrUndefined(o.db), json: o.json })
).pipe(Command.withDescription(
  "Print the data budget: the trade date's and the month's spending (live and historical) and the cost per signal"
))

const sim = Command.make(
  "sim",
  {
    out: Options.file("out").pipe(
      Options.withDescription("DBN file to write (zstd-compressed when the name ends in .zst)")
    ),
    seed: Options.integer("seed").pipe(Options.withDescription("Simulator seed"), Options.withDefault(1)),
    records: Options.integer("records").pipe(Options.withDescription("Approximate record count"), Options.optional),
    date: Options.text("date").pipe(
      Options.withDescription("Trading day of the session, YYYY-MM-DD (a weekday; default the simulator's own)"),
      Options.optional
    ),
    truth: Options.file("truth").pipe(
      Options.withDescription("Also write the ground truth (episodes, windows, trades) as JSON here"),
      Options.optional
    )
  },
  (o) =>
    Replay.sim({
      out: o.out,
      seed: o.seed,
      records: Option.getOrUndefined(o.records),
      date: Option.getOrUndefined(o.date),
      truth: Option.getOrUndefined(o.truth)
    })
).pipe(Command.withDescription("Write a simulated NQ options session (DBN v3) and optionally its ground truth"))

const live = Command.make(
  "live",
  {
    db,
    ignoreMarketHours: Options.boolean("ignore-market-hours").pipe(
      Options.withDescription("Stream whatever the time (no 09:30–16:00 New York gate)")
    )
  },
  (o) => Live.run({ db: Option.getOrUndefined(o.db), ignoreMarketHours: o.ignoreMarketHours })
).pipe(Command.withDescription(
  "Stream from Databento's live gateway (DATABENTO_API_KEY, IFD_GATEWAY_HOST/PORT) until SIGINT/SIGTERM"
))

const gateway = Command.make(
  "gateway",
  {
    file: Options.file("file").pipe(Options.withDescription("DBN v3 file to serve (e.g. from `sim`)")),
    port: Options.integer("port").pipe(Options.withDescription("TCP port on 127.0.0.1"), Options.withDefault(13000)),
    key: Options.text("key").pipe(
      Options.withDescription("API key clients must authenticate with (32 characters, db- prefix)"),
      Options.withDefault("db-localtestkeyAAAAAAAAAAAAAAAAA")
    ),
    speed: Options.float("speed").pipe(
      Options.withDescription("Pace by event time at this multiple of real time (0 = as fast as the client reads)"),
      Options.withDefault(0)
    )
  },
  (o) => Live.gateway(o)
).pipe(Command.withDescription("Run a local gateway speaking Databento's live protocol over a DBN file (for trying `live`)"))

const status = Command.make(
  "status",
  {
    host: Options.text("host").pipe(Options.withDescription("Control interface host (default 127.0.0.1)"), Options.optional),
    port: Options.integer("port").pipe(Options.withDescription("Control interface port (default 8787)"), Options.optional),
    json: Options.boolean("json").pipe(Options.withDescription("Print the status as JSON"))
  },
  (o) =>
    Control.fetchStatus({ host: Option.getOrUndefined(o.host), port: Option.getOrUndefined(o.port) }).pipe(
      Effect.flatMap((s) => Console.log(o.json ? JSON.stringify(s, null, 2) : formatStatus(s)))
    )
).pipe(Command.withDescription("Print a running `live` instance's status (from its control interface)"))

const backfill = Command.make(
  "backfill",
  {
    db,
    days: Options.integer("days").pipe(
      Options.withDescription("Trading days of history to fetch (e.g. 20 for the baselines)"),
      Options.optional
    ),
    gaps: Options.boolean("gaps").pipe(Options.withDescription(
      "Instead of --days: re-run the sessions holding pending gaps of the live feed and mark the gaps recovered"
    )),
    end: Options.text("end").pipe(
      Options.withDescription("With --days: the trading days before this New York date, YYYY-MM-DD (default: today)"),
      Options.optional
    )
  },
  (o) =>
    Backfill.command({
      db: Option.getOrUndefined(o.db),
      days: Option.getOrUndefined(o.days),
      gaps: o.gaps,
      end: Option.getOrUndefined(o.end)
    })
).pipe(Command.withDescription(
  "Fetch history (--days N) or repair sessions with pending gaps (--gaps) from Databento's historical API, priced first"
))

const report = Command.make(
  "report",
  {
    db,
    day: Options.text("day").pipe(
      Options.withDescription("UTC day, YYYY-MM-DD (default: the day of the latest stored window)"),
      Options.optional
    ),
    expiration: Options.text("expiration").pipe(
      Options.withDescription("Only this expiration, YYYY-MM-DD (default: every expiration of the day)"),
      Options.optional
    ),
    out: Options.file("out").pipe(Options.withDescription("HTML file to write"))
  },
  (o) =>
    Report.run({
      db: Option.getOrUndefined(o.db),
      day: Option.getOrUndefined(o.day),
      expiration: Option.getOrUndefined(o.expiration),
      out: o.out
    })
).pipe(Command.withDescription("Write the dashboard's views of a stored day as one self-contained HTML file"))

export const root = Command.make("ifd-stream").pipe(
  Command.withDescription("Institutional flow detector for CME NQ options"),
  Command.withSubcommands([replay, live, status, backfill, budget, gateway, sim, baseline, dbn, exportCommand, prune, report])
)

export const run = Command.run(root, { name: "ifd-stream", version: "0.1.0" })
