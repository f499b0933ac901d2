import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, type AgentConfig } from '../../src/config/load.js';

export function tempDir(prefix = 'outpost-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config with free ports and a fresh database, from YAML with the given overrides. */
export function testConfig(yaml: string, dir = tempDir()): AgentConfig {
  const r = parseConfigText(yaml, { dir });
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.config;
}

/** `sources`: the YAML value of `sources:` (default one MQTT source on sensors/#). */
export function baseYaml(o: { fleetUrl: string; windowSize?: string; lateness?: string; extra?: string; detectors?: string; sources?: string }): string {
  return `
device: { id: test-01 }
broker: { enabled: true, host: 127.0.0.1, port: 0 }
sources: ${o.sources ?? '[ { type: mqtt, topic: "sensors/#" } ]'}
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: ${o.windowSize ?? '10s'}, lateness: ${o.lateness ?? '0s'} }
    aggregates: [count, min, max, mean, stddev, first, last]
    detectors: ${o.detectors ?? '[ { type: threshold, max: 45 } ]'}
uplink: { url: "${o.fleetUrl}", reconnect: { min: 100ms, max: 500ms } }
storage: { path: ./outpost.db, commitInterval: 20ms, quietCommitInterval: 20ms }
http: { enabled: true, host: 127.0.0.1, port: 0 }
${o.extra ?? ''}
`;
}
