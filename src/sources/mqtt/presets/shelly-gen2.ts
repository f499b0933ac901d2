// Shelly Gen2 (Plus, Pro) over MQTT: RPC notifications on <id>/events/rpc, whose
// NotifyStatus (what changed) and NotifyFullStatus (everything) carry components by key
// ("temperature:0": {"tC": 21.4}) and params.ts in epoch seconds; optional status topics
// <id>/status/<component>; <id>/online true/false. Sensor ids are <id>/<component>/<field>
// (shellyplusht-08b61f/temperature:0/tC) from either topic. A NotifyStatus yields readings
// of the fields it carries: unchanged fields are not sent again (a window averages what the
// device reported).
import { contextFor, availability, ignored, levelsUnder } from '../topic-decoder.js';
import { parseFields } from '../fields-format.js';
import { parsePayload } from '../payload.js';
import type { Preset } from './preset.js';

const NOTIFICATIONS = new Set(['NotifyStatus', 'NotifyFullStatus']);
const decoder = new TextDecoder('utf-8', { fatal: false });

export const shellyGen2: Preset = {
  base: '',
  idSpace: '+/#',
  exclude: ['*/id', 'sys/**', 'cloud/**', 'mqtt/**', 'ble/**', 'ws/**', 'wifi/sta_ip', 'wifi/ssid', '**/aenergy/by_minute/**', '**/aenergy/minute_ts', '**/ret_aenergy/by_minute/**', '**/ret_aenergy/minute_ts', '**/errors/**'],
  timeFields: ['ts'],
  decoder: (base, s) => {
    const root = base === '' ? '' : `${base}/`;
    return {
      filters: [`${root}+/events/rpc`, `${root}+/online`, `${root}+/status/+`],
      decode(topic, payload, receivedAt) {
        const levels = levelsUnder(base, topic);
        if (!levels) return ignored();
        const device = levels[0]!;
        if (levels.length === 2 && levels[1] === 'online') return availability(device, payload);
        if (levels.length === 3 && levels[1] === 'status') {
          // The component's own topic: parsed as if it were that key of a full status.
          const component = levels[2]!;
          const ctx = contextFor(s, device, receivedAt, 'fields', { keep: (p) => s.keep(`${component}/${p}`), timeFields: [] });
          const one = parsePayload(payload, { ...ctx, sensor: `${device}/${component}` });
          return one;
        }
        if (levels.length !== 3 || levels[1] !== 'events' || levels[2] !== 'rpc') return ignored();
        if (payload.length > s.maxBytes) return parsePayload(payload, contextFor(s, device, receivedAt, 'json')); // the size problem, worded once
        let frame: { method?: unknown; params?: unknown };
        try {
          frame = JSON.parse(decoder.decode(payload)) as typeof frame;
        } catch (err) {
          return { readings: [], problems: [{ reason: 'bad-json', detail: `not valid JSON: ${(err as Error).message}` }] };
        }
        if (frame === null || typeof frame !== 'object' || typeof frame.method !== 'string' || !NOTIFICATIONS.has(frame.method)) return ignored();
        if (frame.params === null || typeof frame.params !== 'object') return { readings: [], problems: [{ reason: 'bad-format', detail: `${frame.method} without params` }] };
        return parseFields(frame.params, device, receivedAt, { states: s.states, keep: s.keep, timeFields: s.timeFields, timezone: s.timezone, time: s.time ?? { floor: 1e11, horizon: 10 * 365 * 86_400_000 } });
      },
    };
  },
};
