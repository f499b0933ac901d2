// Which sensor ids each source can produce, and whether two sources' ids can overlap. Two
// producers of one id would interleave in one window and one upstream topic (the averaged
// kitchen_temp2 of esphome-node/... and homeassistant/...). An MQTT source's ids are an
// MQTT-style filter over ids ("+" one level, "#" any rest, none included); GPIO and simulated
// sources name theirs exactly (and an MQTT message mapping onto one is dead-lettered at run
// time: mqtt-source.ts `reserved`).
import { literalPrefix } from '../stream/topic-filter.js';
import { PRESETS } from '../sources/mqtt/presets/index.js';
import type { MqttSourceConfig } from './schema.js';

/** The id space of an MQTT source: its preset's, or its topic minus the literal prefix. */
export function mqttIdSpace(s: Pick<MqttSourceConfig, 'preset' | 'topic' | 'format' | 'prefix'>): string {
  let space: string;
  if (s.preset) space = PRESETS[s.preset].idSpace;
  else {
    const topic = s.topic ?? 'sensors/#';
    const lp = literalPrefix(topic);
    space = lp === '' ? topic : topic.slice(lp.length);
    // SenML names and JSON fields add levels below the topic's id.
    const format = s.format ?? 'auto';
    if ((format === 'auto' || format === 'senml' || format === 'fields') && !space.endsWith('#')) space += '/#';
  }
  return s.prefix ? `${s.prefix}/${space}` : space;
}

/** Whether some id matches both filters ("#" matches any rest, none included). */
export function idSpacesOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}
