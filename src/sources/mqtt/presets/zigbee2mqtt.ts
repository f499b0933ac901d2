// zigbee2mqtt: device state on <base>/<friendly name> (output: json, a JSON object) or
// <base>/<friendly name>/<attribute> (output: attribute, bare values: the attribute is the
// field, so exclude and last_seen apply to it as to a JSON field); availability on
// <base>/<friendly name>/availability ({"state":"online"} in 2.x, online in 1.x). Friendly
// names may hold "/" (z2m groups devices that way), spaces and any letters: the sensor id is
// the name, then the field (living room/sensor/temperature). bridge/... is the bridge's own.
import { availability, fieldsOf, ignored, isObject, levelsUnder, readPayload } from '../topic-decoder.js';
import type { Preset } from './preset.js';

export const zigbee2mqtt: Preset = {
  base: 'zigbee2mqtt',
  // A friendly name and a field: two levels at least.
  idSpace: '+/+/#',
  // Radio and firmware bookkeeping, not measurements (exclude: [] brings them back).
  exclude: ['linkquality', 'update/**', 'update_available', 'device/**', 'elapsed', 'power_on_behavior'],
  timeFields: ['last_seen'],
  liveTime: true,
  decoder: (base, s) => ({
    filters: [`${base}/#`],
    decode(topic, payload, receivedAt) {
      const levels = levelsUnder(base, topic);
      if (!levels || levels[0] === 'bridge' || levels.includes('')) return ignored();
      const last = levels.at(-1)!;
      if (last === 'availability' && levels.length > 1) return availability(levels.slice(0, -1).join('/'), payload);
      // Commands to devices (and their echoes): <name>/set, <name>/get, <name>/set/<attribute>.
      if (last === 'set' || last === 'get' || levels.at(-2) === 'set' || levels.at(-2) === 'get') return ignored();
      const read = readPayload(s, payload);
      if (!('doc' in read)) return read;
      if (isObject(read.doc)) return fieldsOf(s, read.doc, levels.join('/'), receivedAt);
      // output: attribute: <name>/<attribute> with a bare value.
      if (levels.length < 2) return ignored();
      return fieldsOf(s, { [last]: read.doc }, levels.slice(0, -1).join('/'), receivedAt);
    },
  }),
};
