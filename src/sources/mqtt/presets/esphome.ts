// ESPHome's MQTT client: <topic_prefix>/<component>/<object_id>/state (a sensor's bare number,
// a binary sensor's ON/OFF, a light's JSON), and <topic_prefix>/status (online/offline, its
// birth and will). topic_prefix defaults to the node name. Sensor ids keep the component
// (kitchen/sensor/kitchen_temp2, kitchen/binary_sensor/door), as object ids are unique only
// within one component; include and exclude match <component>/<object_id>[/<field>].
// text_sensor states are text: not subscribed.
import { availability, fieldsOf, ignored, levelsUnder, readPayload } from '../topic-decoder.js';
import type { Preset } from './preset.js';

const COMPONENTS = ['sensor', 'binary_sensor', 'switch', 'number', 'light', 'fan', 'cover'] as const;

export const esphome: Preset = {
  base: '',
  idSpace: '+/+/+/#',
  exclude: [],
  timeFields: [],
  liveTime: false,
  decoder: (base, s) => {
    const root = base === '' ? '' : `${base}/`;
    return {
      filters: [...COMPONENTS.map((c) => `${root}+/${c}/+/state`), `${root}+/status`],
      decode(topic, payload, receivedAt) {
        const levels = levelsUnder(base, topic);
        if (!levels || levels.includes('')) return ignored();
        // +/status catches every <x>/status on the broker: Home Assistant's birth message is
        // not a node, and a payload that is no availability word is somebody else's.
        if (levels.length === 2 && levels[1] === 'status') return levels[0] === 'homeassistant' && base === '' ? ignored() : availability(levels[0]!, payload, true);
        if (levels.length !== 4 || levels[3] !== 'state') return ignored();
        const read = readPayload(s, payload);
        if (!('doc' in read)) return read;
        return fieldsOf(s, { [levels[1]!]: { [levels[2]!]: read.doc } }, levels[0]!, receivedAt);
      },
    };
  },
};
