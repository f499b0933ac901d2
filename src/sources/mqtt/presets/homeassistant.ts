// Home Assistant's mqtt_statestream: <base_topic>/<domain>/<object_id>/state carries an
// entity's state as raw text (21.5, on, unavailable), retained. The sensor id is the entity id
// (sensor.kitchen_temp2): unique across domains, and what a Home Assistant user knows. States
// without a numeric meaning (unavailable, unknown, text) are skipped and counted. A JSON
// object with a "state" key (a bridge's own shape) gives that state.
import { contextFor, ignored, levelsUnder } from '../topic-decoder.js';
import { parsePayload } from '../payload.js';
import type { Preset } from './preset.js';

export const homeassistant: Preset = {
  base: 'homeassistant',
  idSpace: '+',
  exclude: [],
  timeFields: [],
  decoder: (base, s) => ({
    filters: [`${base}/+/+/state`],
    decode(topic, payload, receivedAt) {
      const levels = levelsUnder(base, topic);
      if (!levels || levels.length !== 3) return ignored();
      const ctx = contextFor(s, `${levels[0]}.${levels[1]}`, receivedAt, 'fields', { keep: (p) => p === 'state', timeFields: ['last_updated', 'last_changed'] });
      const result = parsePayload(payload, ctx);
      // {"state": ...} reads as <entity>/state: the entity's own id stands for its state.
      for (const r of result.readings) if (r.sensor.endsWith('/state')) r.sensor = ctx.sensor;
      return result;
    },
  }),
};
