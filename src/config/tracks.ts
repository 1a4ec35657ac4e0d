/** Finding a configured track by name: the one error every command and route gives for a name that is not there. */
import type { Config, TrackConfig } from './schema.ts';

export class UnknownTrackError extends Error {
  constructor(
    readonly track: string,
    known: string[],
  ) {
    super(`unknown track "${track}"; configured tracks: ${known.join(', ')}`);
    this.name = 'UnknownTrackError';
  }
}

/** The track of that name, or an {@link UnknownTrackError} listing the configured ones. */
export function trackNamed(config: Pick<Config, 'tracks'>, name: string): TrackConfig {
  const t = config.tracks.find((x) => x.name === name);
  if (!t) throw new UnknownTrackError(name, config.tracks.map((x) => x.name));
  return t;
}
