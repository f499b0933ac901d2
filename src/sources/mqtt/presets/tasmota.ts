// Tasmota (default FullTopic %prefix%/%topic%/): telemetry on tele/<topic>/SENSOR (sensors
// by name: {"AM2301":{"Temperature":21.4}}, several DS18B20 as DS18B20-1, -2 with their Id)
// and tele/<topic>/STATE (POWER, Wifi/RSSI, ...), the last will on tele/<topic>/LWT
// (Online/Offline). "Time" is local time without a zone unless SetOption52 adds one: it is
// read in the source's `timezone`, or the receive time stamps the readings when none is set.
import { contextFor, availability, ignored, levelsUnder } from '../topic-decoder.js';
import { parsePayload } from '../payload.js';
import type { Preset } from './preset.js';

export const tasmota: Preset = {
  base: 'tele',
  idSpace: '+/#',
  exclude: ['**/Id', 'Heap', 'Sleep', 'SleepMode', 'LoadAvg', 'MqttCount', 'Wifi/AP', 'Wifi/Channel', 'Wifi/LinkCount', 'Berry/**'],
  // Epoch (UTC seconds, with `Time 2` or `3`) when there, else Time (local, zone-less by default).
  timeFields: ['Epoch', 'Time'],
  decoder: (base, s) => ({
    filters: [`${base}/+/SENSOR`, `${base}/+/STATE`, `${base}/+/LWT`],
    decode(topic, payload, receivedAt) {
      const levels = levelsUnder(base, topic);
      if (!levels || levels.length !== 2) return ignored();
      const [device, kind] = levels as [string, string];
      if (kind === 'LWT') return availability(device, payload);
      if (kind !== 'SENSOR' && kind !== 'STATE') return ignored();
      return parsePayload(payload, contextFor(s, device, receivedAt, 'fields'));
    },
  }),
};
