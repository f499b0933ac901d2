// ESPHome's MQTT client: <topic_prefix>/<component>/<object_id>/state (a sensor's bare number,
// a binary sensor's ON/OFF, a light's JSON), and <topic_prefix>/status (online/offline, its
// birth and will). topic_prefix defaults to the node name. Sensor ids keep the component
// (kitchen/sensor/kitchen_temp2, kitchen/binary_sensor/door), as object ids are unique only
// within one component. text_sensor states are text: not subscribed.
import { contextFor, availability, ignored, levelsUnder } from '../topic-decoder.js';
import { parsePayload } from '../payload.js';
import type { Preset } from './preset.js';

const COMPONENTS = ['sensor', 'binary_sensor', 'switch', 'number', 'light', 'fan', 'cover'] as const;

export const esphome: Preset = {
  base: '',
  idSpace: '+/+/+/#',
  exclude: [],
  timeFields: [],
  decoder: (base, s) => {
    const root = base === '' ? '' : `${base}/`;
    return {
      filters: [...COMPONENTS.map((c) => `${root}+/${c}/+/state`), `${root}+/status`],
      decode(topic, payload, receivedAt) {
        const levels = levelsUnder(base, topic);
        if (!levels) return ignored();
        if (levels.length === 2 && levels[1] === 'status') return availability(levels[0]!, payload);
        if (levels.length !== 4 || levels[3] !== 'state') return ignored();
        return parsePayload(payload, contextFor(s, levels.slice(0, 3).join('/'), receivedAt, 'fields'));
      },
    };
  },
};
