export { loadConfig, parseConfig, resolveConfigPath, ConfigError, DEFAULT_CONFIG_FILE } from './load.ts';
export type { LoadedConfig, LoadOptions } from './load.ts';
export { configSchema, trackSchema } from './schema.ts';
export type { Config, TrackConfig, BaselineConfig, SuiteConfig, Secrets } from './schema.ts';
export { trackNamed, UnknownTrackError } from './tracks.ts';
