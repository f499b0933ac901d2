// Home Assistant's mqtt_statestream: <base_topic>/<domain>/<object_id>/state carries an
// entity's state as raw text (21.5, on, unavailable), retained. The sensor id is the entity id
// (sensor.kitchen_temp2): unique across domains, and what a Home Assistant user knows; include
// and exclude match it (exclude: ["sensor.*_battery"]). States without a numeric meaning
// (unavailable, unknown, text) are skipped and counted. A JSON object with a "state" key (a
// bridge's own shape) gives that state.
import { fieldsOf, ignored, isObject, levelsUnder, readPayload } from '../topic-decoder.js';
import type { Preset } from './preset.js';

export const homeassistant: Preset = {
  base: 'homeassistant',
  idSpace: '+',
  exclude: [],
  timeFields: [],
  liveTime: false,
  decoder: (base, s) => ({
    filters: [`${base}/+/+/state`],
    decode(topic, payload, receivedAt) {
      const levels = levelsUnder(base, topic);
      if (!levels || levels.length !== 3 || levels.includes('')) return ignored();
      const entity = `${levels[0]}.${levels[1]}`;
      if (!s.keep(entity)) return ignored();
      const read = readPayload(s, payload);
      if (!('doc' in read)) return read;
      const state = isObject(read.doc) && !Array.isArray(read.doc) ? (read.doc as { state?: unknown }).state : read.doc;
      // The entity's own id is its reading: a bare value with the entity as its base.
      return fieldsOf(s, state === undefined || isObject(state) ? null : state, entity, receivedAt, { timeFields: [] });
    },
  }),
};
