/**
 * Configuration of the live gateway client: key, gateway address, subscription, heartbeats, reconnection and
 * the event buffer. The key is a `Redacted` from the environment to the CRAM line. shared/spec/databento.md §8, §9.
 */
import { Config, ConfigError, Context, Duration, Either, Layer, Option, Redacted } from "effect"

export interface LiveSettings {
  /** DATABENTO_API_KEY: 32 characters starting `db-`. */
  readonly apiKey: Redacted.Redacted<string>
  readonly dataset: string
  readonly host: string
  readonly port: number
  /** Input symbols (`NQ.OPT`), resolved with `stypeIn`. */
  readonly symbols: ReadonlyArray<string>
  readonly stypeIn: string
  /** Schemas subscribed, in this order, each with the same symbols. */
  readonly schemas: ReadonlyArray<string>
  /** Ask for an MBO snapshot (Clear + Adds per instrument) when a session starts without replay. */
  readonly snapshot: boolean
  /** Replay from this time (UNIX ns; 0 = the whole available session) on the first connection without a cursor. */
  readonly start: bigint | undefined
  /** Interval the gateway is asked to send heartbeats at when idle. */
  readonly heartbeat: Duration.Duration
  /** Silence tolerated beyond `heartbeat` before the connection is declared dead. */
  readonly heartbeatGrace: Duration.Duration
  readonly connectTimeout: Duration.Duration
  /** From TCP connect to the auth reply. */
  readonly authTimeout: Duration.Duration
  /** First reconnect delay; later ones double (jittered) up to `reconnectMaxDelay`. */
  readonly reconnectBase: Duration.Duration
  readonly reconnectMaxDelay: Duration.Duration
  /** A session that stays up this long (or delivers a record) resets the backoff. */
  readonly healthyAfter: Duration.Duration
  /**
   * An outage longer than this is not replayed from the gateway: the gap is recorded for the historical
   * fallback and the client goes on live. The gateway keeps about 24 hours.
   */
  readonly replayWithin: Duration.Duration
  /**
   * A gap longer than this is not filled in place from the historical API: the live stream would wait while its
   * records download and apply, and the gateway drops a reader that falls too far behind. The gap stays pending
   * (for `backfill --gaps`) and the next connection rebuilds the books from a snapshot.
   */
  readonly fillWithin: Duration.Duration
  /** Give up (fail the stream) after reconnecting fails for this long; undefined = never. */
  readonly giveUpAfter: Duration.Duration | undefined
  /** Bytes held between the socket and the consumer before reading pauses (TCP back-pressure). */
  readonly bufferBytes: number
  /** `client=` field of the auth request. */
  readonly client: string
}

export class LiveConfig extends Context.Tag("ifd/live/LiveConfig")<LiveConfig, LiveSettings>() {}

export const DEFAULT_DATASET = "GLBX.MDP3"

/** Gateway host of a dataset: lower-cased, `.` → `-`, plus `.lsg.databento.com` (§8.1). */
export const hostFor = (dataset: string): string => `${dataset.toLowerCase().replace(/\./g, "-")}.lsg.databento.com`

export const defaults = {
  dataset: DEFAULT_DATASET,
  host: hostFor(DEFAULT_DATASET),
  port: 13000,
  symbols: ["NQ.OPT"],
  stypeIn: "parent",
  schemas: ["mbo", "definition"],
  snapshot: true,
  start: undefined,
  heartbeat: Duration.seconds(30),
  heartbeatGrace: Duration.seconds(5),
  connectTimeout: Duration.seconds(10),
  authTimeout: Duration.seconds(30),
  reconnectBase: Duration.millis(250),
  reconnectMaxDelay: Duration.seconds(30),
  healthyAfter: Duration.seconds(60),
  replayWithin: Duration.hours(23),
  fillWithin: Duration.minutes(5),
  giveUpAfter: undefined,
  bufferBytes: 16 * 1024 * 1024,
  client: `ifd-stream/0.1.0 Node/${process.versions.node}`
} satisfies Omit<LiveSettings, "apiKey">

/** Why a key is unusable, in words that never quote it; undefined when the shape is right. */
export const keyProblem = (key: string): string | undefined => {
  if (key.length === 0) return "DATABENTO_API_KEY is empty"
  if (!key.startsWith("db-")) return "DATABENTO_API_KEY must start with \"db-\""
  if (key.length !== 32) return `DATABENTO_API_KEY must be 32 characters long (it has ${key.length})`
  if (/\s/.test(key)) return "DATABENTO_API_KEY contains white space"
  return undefined
}

const apiKey = Config.option(Config.redacted("DATABENTO_API_KEY")).pipe(
  Config.withDescription("Databento API key (32 characters, starting db-); never logged"),
  Config.mapOrFail((key) => {
    if (Option.isNone(key)) {
      return Either.left(ConfigError.MissingData(
        ["DATABENTO_API_KEY"],
        "DATABENTO_API_KEY is not set: the live source needs a Databento API key"
      ))
    }
    const problem = keyProblem(Redacted.value(key.value))
    return problem === undefined
      ? Either.right(key.value)
      : Either.left(ConfigError.InvalidData(["DATABENTO_API_KEY"], problem))
  })
)

const seconds = (name: string, fallback: Duration.Duration, description: string, min = 0) =>
  Config.number(name).pipe(
    Config.validate({ message: `${name} must be a number of seconds >= ${min}`, validation: (n) => n >= min }),
    Config.map((s) => Duration.millis(s * 1000)),
    Config.withDefault(fallback),
    Config.withDescription(description)
  )

/** Reads IFD_GATEWAY_HOST, IFD_GATEWAY_PORT, IFD_DATASET, IFD_SYMBOLS, IFD_HEARTBEAT_S, … and DATABENTO_API_KEY. */
export const config: Config.Config<LiveSettings> = Config.all({
  apiKey,
  dataset: Config.string("IFD_DATASET").pipe(
    Config.withDefault(defaults.dataset),
    Config.withDescription("Databento dataset of the live session")
  ),
  host: Config.option(Config.string("IFD_GATEWAY_HOST").pipe(
    Config.withDescription("Live gateway host (default: derived from the dataset, e.g. glbx-mdp3.lsg.databento.com)")
  )),
  port: Config.port("IFD_GATEWAY_PORT").pipe(
    Config.withDefault(defaults.port),
    Config.withDescription("Live gateway TCP port")
  ),
  symbols: Config.string("IFD_SYMBOLS").pipe(
    Config.map((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
    Config.validate({ message: "IFD_SYMBOLS must name at least one symbol", validation: (a) => a.length > 0 }),
    Config.withDefault(defaults.symbols),
    Config.withDescription("Comma-separated input symbols (parent symbology: NQ.OPT)")
  ),
  stypeIn: Config.string("IFD_STYPE_IN").pipe(
    Config.withDefault(defaults.stypeIn),
    Config.withDescription("Symbology of IFD_SYMBOLS: parent, raw_symbol, instrument_id, …")
  ),
  snapshot: Config.boolean("IFD_SNAPSHOT").pipe(
    Config.withDefault(defaults.snapshot),
    Config.withDescription("Request an MBO book snapshot when a session starts without replay")
  ),
  start: Config.option(Config.string("IFD_LIVE_START").pipe(
    Config.mapOrFail((s) => {
      if (/^\d+$/.test(s)) return Either.right(BigInt(s))
      const ms = Date.parse(s)
      return Number.isNaN(ms)
        ? Either.left(ConfigError.InvalidData(["IFD_LIVE_START"], "IFD_LIVE_START must be UNIX ns or an ISO-8601 time"))
        : Either.right(BigInt(ms) * 1_000_000n)
    }),
    Config.withDescription("Replay from this time on first connect (UNIX ns or ISO-8601; 0 = whole session)")
  )),
  heartbeat: Config.integer("IFD_HEARTBEAT_S").pipe(
    Config.validate({ message: "IFD_HEARTBEAT_S must be between 5 and 1800", validation: (n) => n >= 5 && n <= 1800 }),
    Config.map(Duration.seconds),
    Config.withDefault(defaults.heartbeat),
    Config.withDescription("Gateway heartbeat interval in seconds (5..1800)")
  ),
  heartbeatGrace: seconds(
    "IFD_HEARTBEAT_GRACE_S",
    defaults.heartbeatGrace,
    "Silence beyond the heartbeat interval before reconnecting"
  ),
  connectTimeout: seconds("IFD_CONNECT_TIMEOUT_S", defaults.connectTimeout, "TCP connect timeout", 0.001),
  authTimeout: seconds("IFD_AUTH_TIMEOUT_S", defaults.authTimeout, "Time from connect to the auth reply", 0.001),
  reconnectBase: seconds("IFD_RECONNECT_BASE_S", defaults.reconnectBase, "First reconnect delay (doubles, jittered)"),
  reconnectMaxDelay: seconds("IFD_RECONNECT_MAX_S", defaults.reconnectMaxDelay, "Longest delay between reconnects"),
  healthyAfter: seconds("IFD_HEALTHY_AFTER_S", defaults.healthyAfter, "Uptime that resets the reconnect backoff"),
  replayWithin: seconds(
    "IFD_REPLAY_WITHIN_S",
    defaults.replayWithin,
    "Longest outage replayed from the gateway; longer ones are recorded as gaps for the historical fallback"
  ),
  fillWithin: seconds(
    "IFD_GAP_FILL_WITHIN_S",
    defaults.fillWithin,
    "Longest gap filled in place from the historical API; longer ones stay pending for backfill --gaps"
  ),
  giveUpAfter: Config.option(
    seconds("IFD_RECONNECT_GIVE_UP_S", Duration.zero, "Fail after reconnecting fails this long (0 = never)")
  ),
  bufferBytes: Config.integer("IFD_LIVE_BUFFER_BYTES").pipe(
    Config.validate({ message: "IFD_LIVE_BUFFER_BYTES must be at least 65536", validation: (n) => n >= 65536 }),
    Config.withDefault(defaults.bufferBytes),
    Config.withDescription("Bytes buffered between socket and consumer before reading pauses")
  )
}).pipe(Config.map((c): LiveSettings => ({
  ...defaults,
  ...c,
  host: Option.getOrElse(c.host, () => hostFor(c.dataset)),
  start: Option.getOrUndefined(c.start),
  giveUpAfter: Option.match(c.giveUpAfter, {
    onNone: () => undefined,
    onSome: (d) => Duration.toMillis(d) > 0 ? d : undefined
  })
})))

/** For tests and embedding: defaults plus overrides; the host follows the dataset unless given. */
export const layer = (
  overrides: Partial<LiveSettings> & Pick<LiveSettings, "apiKey">
): Layer.Layer<LiveConfig> =>
  Layer.succeed(LiveConfig, {
    ...defaults,
    ...(overrides.dataset === undefined ? {} : { host: hostFor(overrides.dataset) }),
    ...overrides
  })

export const layerConfig: Layer.Layer<LiveConfig, ConfigError.ConfigError> = Layer.effect(LiveConfig, config)
