// zigbee2mqtt: device state on <base>/<friendly name> (output: json, a JSON object) or
// <base>/<friendly name>/<attribute> (output: attribute, bare values); availability on
// <base>/<friendly name>/availability ({"state":"online"} in 2.x, online in 1.x). Friendly
// names may hold "/" (z2m groups devices that way), spaces and any letters: the sensor id is
// the name, then the field (living room/sensor/temperature). bridge/... is the bridge's own.
import { contextFor, availability, ignored, levelsUnder } from '../topic-decoder.js';
import { parsePayload } from '../payload.js';
import type { Preset } from './preset.js';

export const zigbee2mqtt: Preset = {
  base: 'zigbee2mqtt',
  idSpace: '#',
  // Radio and firmware bookkeeping, not measurements (exclude: [] brings them back).
  exclude: ['linkquality', 'update/**', 'update_available', 'device/**', 'elapsed', 'power_on_behavior'],
  timeFields: ['last_seen'],
  decoder: (base, s) => ({
    filters: [`${base}/#`],
    decode(topic, payload, receivedAt) {
      const levels = levelsUnder(base, topic);
      if (!levels || levels[0] === 'bridge' || levels.length === 0) return ignored();
      const last = levels.at(-1)!;
      if (last === 'availability' && levels.length > 1) return availability(levels.slice(0, -1).join('/'), payload);
      // Commands to devices (and their echoes): <name>/set, <name>/get, <name>/set/<attribute>.
      if (last === 'set' || last === 'get' || levels.at(-2) === 'set' || levels.at(-2) === 'get') return ignored();
      return parsePayload(payload, contextFor(s, levels.join('/'), receivedAt, 'fields'));
    },
  }),
};
