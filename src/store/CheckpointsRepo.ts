/**
 * The resume cursor of each source in `checkpoints`. The cursor is the source's own JSON text (e.g.
 * `{"tsEvent":"1718000000123456789","seen":3}` from source/Cursor.encode); the store checks only that it is JSON.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option } from "effect"
import { mapSql } from "./StoreError.js"

export class CheckpointsRepo extends Effect.Service<CheckpointsRepo>()("ifd/store/CheckpointsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const get = Effect.fn("CheckpointsRepo.get")(
      function*(source: string) {
        const rows = yield* sql<{ cursor: string }>`SELECT cursor FROM checkpoints WHERE source = ${source}`
        return Option.map(Option.fromNullable(rows[0]), (r) => r.cursor)
      },
      mapSql("CheckpointsRepo.get")
    )

    /** Replaces the cursor of `source`; text that is not JSON fails with SQLITE_CONSTRAINT_CHECK. */
    const put = Effect.fn("CheckpointsRepo.put")(
      function*(source: string, cursor: string) {
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO checkpoints (source, cursor, updated_at) VALUES (${source}, ${cursor}, ${now})
          ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`
      },
      mapSql("CheckpointsRepo.put")
    )

    return { get, put } as const
  })
}) {}
