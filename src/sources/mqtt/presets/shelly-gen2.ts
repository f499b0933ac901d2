// Shelly Gen2 (Plus, Pro) over MQTT: RPC notifications on <id>/events/rpc, whose
// NotifyStatus (what changed) and NotifyFullStatus (everything) carry components by key
// ("temperature:0": {"tC": 21.4}) and params.ts in epoch seconds; optional status topics
// <id>/status/<component>; <id>/online true/false. Sensor ids are <id>/<component>/<field>
// (shellyplusht-08b61f/temperature:0/tC) from either topic (enable one of the two in the
// device: with both, each change arrives twice). A NotifyStatus carries what changed (a key
// that disappeared comes as null): it is merged onto the device's last known status (from its
// last NotifyFullStatus and the notifications since), and every field of the merged status is
// a reading, so a field that rarely changes (a relay's output) still has a value in each window
// the device spoke in. The last status is kept for at most MAX_DEVICES devices.
import { availability, fieldsOf, ignored, isObject, levelsUnder, readPayload } from '../topic-decoder.js';
import type { Preset } from './preset.js';

const NOTIFICATIONS = new Set(['NotifyStatus', 'NotifyFullStatus']);
const MAX_DEVICES = 1000;

type Status = Record<string, unknown>;

/** `update` merged onto `base` (a copy): objects by key, null removes a key, the rest replaces. */
function merged(base: Status, update: Status): Status {
  const out: Status = { ...base };
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete out[k];
    else if (isObject(v) && !Array.isArray(v) && isObject(out[k]) && !Array.isArray(out[k])) out[k] = merged(out[k] as Status, v as Status);
    else out[k] = v;
  }
  return out;
}

export const shellyGen2: Preset = {
  base: '',
  idSpace: '+/+/#',
  exclude: ['*/id', 'sys/**', 'cloud/**', 'mqtt/**', 'ble/**', 'ws/**', 'wifi/sta_ip', 'wifi/ssid', '**/aenergy/by_minute/**', '**/aenergy/minute_ts', '**/ret_aenergy/by_minute/**', '**/ret_aenergy/minute_ts', '**/errors/**'],
  timeFields: ['ts'],
  liveTime: true,
  decoder: (base, s) => {
    const root = base === '' ? '' : `${base}/`;
    const last = new Map<string, Status>();
    const remember = (device: string, status: Status) => {
      if (!last.has(device) && last.size >= MAX_DEVICES) last.delete(last.keys().next().value!);
      last.set(device, status);
    };
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
        if (!isObject(frame.params) || Array.isArray(frame.params)) return { readings: [], problems: [{ reason: 'bad-format', detail: `${frame.method} without params` }] };
        const params = frame.params as Status;
        const known = last.get(device);
        const status = frame.method === 'NotifyFullStatus' || !known ? params : merged(known, params);
        remember(device, status);
        // The time is this notification's, not one merged from an older one.
        return fieldsOf(s, { ...status, ts: params.ts }, device, receivedAt);
      },
    };
  },
};
