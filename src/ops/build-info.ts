import { readFileSync } from 'node:fs';
/**
 * A wall time before this is not real: this build did not exist yet (a Pi booting at 1970 or
 * at a stale saved time). Raise it with each release.
 */
export const BUILD_FLOOR_ISO = '2026-11-01T00:00:00Z';
export const BUILD_FLOOR = Date.parse(BUILD_FLOOR_ISO);

/** This build's version (package.json), for what Outpost tells others about itself (discovery). */
export const BUILD_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
