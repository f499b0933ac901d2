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
  for (const sensor of i.sensors) {
    const id = objectId(`${i.device}_${sensor}`);
    cmps[`${id}_mean`] = {
      p: 'sensor',
      name: sensor,
      unique_id: `outpost_${id}_mean`,
      state_topic: `${i.topicPrefix}/summary/${sensor}`,
      value_template: '{{ value_json.mean }}',
      json_attributes_topic: `${i.topicPrefix}/summary/${sensor}`,
      json_attributes_template: '{{ {"min": value_json.min, "max": value_json.max, "count": value_json.count, "window_start": value_json.window.start, "window_end": value_json.window.end} | tojson }}',
      state_class: 'measurement',
    };
    cmps[`${id}_anomaly`] = {
      p: 'sensor',
      name: `${sensor} anomaly`,
      unique_id: `outpost_${id}_anomaly`,
      state_topic: `${i.topicPrefix}/anomaly/${sensor}`,
      value_template: '{{ value_json.severity }}',
      json_attributes_topic: `${i.topicPrefix}/anomaly/${sensor}`,
      json_attributes_template: '{{ {"value": value_json.value, "detector": value_json.detector, "message": value_json.message, "ts": value_json.ts} | tojson }}',
      icon: 'mdi:alert',
    };
  }
  return {
    dev: { ids: [`outpost_${i.device}`], name: `Outpost ${i.device}`, mf: 'Outpost', mdl: 'edge agent', sw: i.version },
    o: { name: 'outpost', sw: i.version },
    availability_topic: `${i.topicPrefix}/status`,
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1,
    cmps,
  };
}
