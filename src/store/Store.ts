/**
 * The storage layer graph: every repo over one set-up, migrated SQLite client. The app provides one of
 * `layer({ filename })`, `layerConfig` (IFD_DB, default ./ifd.sqlite) or `layerMemory` (tests).
 */
import { Layer } from "effect"
import { BaselinesRepo } from "./BaselinesRepo.js"
import { CheckpointsRepo } from "./CheckpointsRepo.js"
import { FlaggedRepo } from "./FlaggedRepo.js"
import { GapsRepo } from "./GapsRepo.js"
import { Retention } from "./Retention.js"
import { RunsRepo } from "./RunsRepo.js"
import { SignalsRepo } from "./SignalsRepo.js"
import * as Sql from "./Sql.js"
import { WindowsRepo } from "./WindowsRepo.js"

/** The repos; they need `SqlClient`. */
export const layerRepos = Layer.mergeAll(
  WindowsRepo.Default,
  FlaggedRepo.Default,
  RunsRepo.Default,
  CheckpointsRepo.Default,
  Retention.Default,
  SignalsRepo.Default,
  BaselinesRepo.Default,
  GapsRepo.Default
)

export const layer = (options: Sql.Options) => layerRepos.pipe(Layer.provideMerge(Sql.layer(options)))

export const layerConfig = layerRepos.pipe(Layer.provideMerge(Sql.layerConfig))

export const layerMemory = layerRepos.pipe(Layer.provideMerge(Sql.layerMemory))
