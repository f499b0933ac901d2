// Home Assistant MQTT discovery, device-based (one retained config per Outpost device on
// <discovery prefix>/device/<object id>/config; Home Assistant 2024.11+): a component per
// sensor's summary (its mean as the state, min, max, count and the window as attributes) and
// one per sensor's anomaly stream, the device's retained status as availability. Pure: the
// output (home-assistant-output.ts) publishes what this builds.
import { createHash } from 'node:crypto';

export interface DiscoveryInput {
  device: string;
  /** uplink.topicPrefix: the state topics live under it. */
  topicPrefix: string;
  sensors: readonly string[];
  version: string;
}

/** [a-zA-Z0-9_-] as Home Assistant requires of ids, with a hash so two ids never meet. */
export function objectId(text: string): string {
  const slug = text.replace(/[^a-zA-Z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 48) || 'x';
  return `${slug}_${createHash('sha256').update(text).digest('hex').slice(0, 6)}`;
}

export function discoveryTopic(prefix: string, device: string): string {
  return `${prefix}/device/${objectId(`outpost_${device}`)}/config`;
}

export function discoveryConfig(i: DiscoveryInput): Record<string, unknown> {
  const cmps: Record<string, unknown> = {};
  // Abbreviated keys (stat_t, val_tpl, ...) as Home Assistant documents them: about 300 bytes
  // a sensor plus four times its id, so 200 sensors with 30-character ids stay under a 128 KB
  // broker packet limit (AWS IoT Core's).
  for (const sensor of i.sensors) {
    // Short ids (the name says what it is): unique per device and sensor across the fleet.
    const id = createHash('sha256').update(`${i.device}\u0000${sensor}`).digest('hex').slice(0, 12);
    // "~" is the device's topic prefix (set at the root): Home Assistant expands it.
    const summary = `~/summary/${sensor}`;
    const anomaly = `~/anomaly/${sensor}`;
    // The whole summary (min, max, count, window) and anomaly (value, detector, message) are the attributes.
    cmps[`${id}_m`] = { p: 'sensor', name: sensor, uniq_id: `outpost_${id}_mean`, stat_t: summary, val_tpl: '{{ value_json.mean }}', json_attr_t: summary, stat_cla: 'measurement' };
    cmps[`${id}_a`] = { p: 'sensor', name: `${sensor} anomaly`, uniq_id: `outpost_${id}_anomaly`, stat_t: anomaly, val_tpl: '{{ value_json.severity }}', json_attr_t: anomaly, ic: 'mdi:alert' };
  }
  return {
    dev: { ids: [`outpost_${i.device}`], name: `Outpost ${i.device}`, mf: 'Outpost', mdl: 'edge agent', sw: i.version },
    o: { name: 'outpost', sw: i.version },
    '~': i.topicPrefix,
    avty_t: '~/status',
    qos: 1,
    cmps,
  };
}
