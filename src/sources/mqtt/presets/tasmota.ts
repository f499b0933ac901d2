// Tasmota (default FullTopic %prefix%/%topic%/): telemetry on tele/<topic>/SENSOR (sensors
// by name: {"AM2301":{"Temperature":21.4}}, several DS18B20 as DS18B20-1, -2 with their Id)
// and tele/<topic>/STATE (POWER, Wifi/RSSI, ...), the last will on tele/<topic>/LWT
// (Online/Offline). "Time" is local time without a zone unless SetOption52 adds one: it is
// read in the source's `timezone` (which must be the zone Tasmota's own Timezone setting keeps),
// or the receive time stamps the readings when none is set; a Time further than
// limits.maxFutureSkew from the receive time is a wrong clock and the receive time stamps too.
import { availability, fieldsOf, ignored, levelsUnder, readPayload } from '../topic-decoder.js';
import type { Preset } from './preset.js';

export const tasmota: Preset = {
  base: 'tele',
  idSpace: '+/+/#',
  exclude: ['**/Id', 'Heap', 'Sleep', 'SleepMode', 'LoadAvg', 'MqttCount', 'Wifi/AP', 'Wifi/Channel', 'Wifi/LinkCount', 'Berry/**'],
  // Epoch (UTC seconds, with `Time 2` or `3`) when there, else Time (local, zone-less by default).
  timeFields: ['Epoch', 'Time'],
  liveTime: true,
  decoder: (base, s) => ({
    filters: [`${base}/+/SENSOR`, `${base}/+/STATE`, `${base}/+/LWT`],
    decode(topic, payload, receivedAt) {
      const levels = levelsUnder(base, topic);
      if (!levels || levels.length !== 2 || levels.includes('')) return ignored();
      const [device, kind] = levels as [string, string];
      if (kind === 'LWT') return availability(device, payload);
      if (kind !== 'SENSOR' && kind !== 'STATE') return ignored();
      const read = readPayload(s, payload);
      return 'doc' in read ? fieldsOf(s, read.doc, device, receivedAt) : read;
    },
  }),
};
