/** What a track's snapshot reads from the store beyond the Store's own methods. */
import type { Store } from './store.ts';

export interface ReportedVersion {
  /** Agent version as the agent reported it; null when the run recorded only a model. */
  v: string | null;
  /** Model as the agent reported it; null when the run recorded only a version. */
  m: string | null;
}

/** Agent version and model of the latest run (by start) of the track that recorded either; undefined when none did. */
export function latestReported(store: Store, trackId: number): ReportedVersion | undefined {
  return store.db
    .prepare(`SELECT agent_version AS v, model_id AS m FROM runs WHERE track_id = ? AND (agent_version IS NOT NULL OR model_id IS NOT NULL)
      ORDER BY started_at DESC LIMIT 1`)
    .get(trackId) as ReportedVersion | undefined;
}
