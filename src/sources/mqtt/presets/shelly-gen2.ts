// Shelly Gen2 (Plus, Pro) over MQTT: RPC notifications on <id>/events/rpc, whose
// NotifyStatus (what changed) and NotifyFullStatus (everything) carry components by key
// ("temperature:0": {"tC": 21.4}) and params.ts in epoch seconds; optional status topics
// <id>/status/<component>; <id>/online true/false. Sensor ids are <id>/<component>/<field>
// (shellyplusht-08b61f/temperature:0/tC) from either topic (enable one of the two in the
// device: with both, each change arrives twice). A NotifyStatus yields readings of the fields
// it carries: unchanged fields are not sent again (a window averages what the device reported).
import { availability, fieldsOf, ignored, isObject, levelsUnder, readPayload } from '../topic-decoder.js';
import type { Preset } from './preset.js';

const NOTIFICATIONS = new Set(['NotifyStatus', 'NotifyFullStatus']);

export const shellyGen2: Preset = {
  base: '',
  idSpace: '+/+/#',
  exclude: ['*/id', 'sys/**', 'cloud/**', 'mqtt/**', 'ble/**', 'ws/**', 'wifi/sta_ip', 'wifi/ssid', '**/aenergy/by_minute/**', '**/aenergy/minute_ts', '**/ret_aenergy/by_minute/**', '**/ret_aenergy/minute_ts', '**/errors/**'],
  timeFields: ['ts'],
  liveTime: true,
  decoder: (base, s) => {
    const root = base === '' ? '' : `${base}/`;
    return {
      filters: [`${root}+/events/rpc`, `${root}+/online`, `${root}+/status/+`],
      decode(topic, payload, receivedAt) {
        const levels = levelsUnder(base, topic);
        if (!levels || levels.includes('')) return ignored();
        const device = levels[0]!;
        if (levels.length === 2 && levels[1] === 'online') return availability(device, payload);
        const isStatus = levels.length === 3 && levels[1] === 'status';
        if (!isStatus && (levels.length !== 3 || levels[1] !== 'events' || levels[2] !== 'rpc')) return ignored();
        const read = readPayload(s, payload);
        if (!('doc' in read)) return read;
        // A component's own topic: parsed as that key of a full status.
        if (isStatus) return fieldsOf(s, { [levels[2]!]: read.doc }, device, receivedAt, { timeFields: [] });
        const frame = read.doc as { method?: unknown; params?: unknown } | null;
        if (!isObject(frame) || typeof frame.method !== 'string' || !NOTIFICATIONS.has(frame.method)) return ignored();
        if (!isObject(frame.params)) return { readings: [], problems: [{ reason: 'bad-format', detail: `${frame.method} without params` }] };
        return fieldsOf(s, frame.params, device, receivedAt);
      },
    };
  },
};
