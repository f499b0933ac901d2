// Device availability as the firmwares report it (zigbee2mqtt's <name>/availability, Tasmota's
// LWT, ESPHome's status, Shelly's online): an event when a device's state changes, or is first
// heard; a repeat of the same state (a retained message after a restart, a periodic resend) is
// none. Pure; the last state per device is saved with the stream's checkpoint.
import type { Sink } from './staleness.js';

export interface AvailabilityEvent {
  kind: 'event';
  type: 'availability';
  /** The device as its source names it (with the source's prefix). */
  sensor: string;
  ts: number;
  state: 'online' | 'offline';
  /** When the previous state began (epoch ms), when one was known. */
  previousSince?: number;
}

export type SavedAvailability = Array<[string, { online: boolean; since: number }]>;

/** Devices remembered, at most: a flood of invented names cannot grow the state. */
const MAX_DEVICES = 10_000;

export interface Availability {
  report(device: string, online: boolean, at: number, out: Sink<AvailabilityEvent>): boolean;
  /** Devices known offline. */
  offline(): number;
  save(): SavedAvailability;
}

export function createAvailability(saved: SavedAvailability = []): Availability {
  const devices = new Map(saved.map(([d, s]) => [d, { ...s }]));
  return {
    report(device, online, at, out) {
      const was = devices.get(device);
      if (was?.online === online) return false;
      if (!was && devices.size >= MAX_DEVICES) return false;
      out.push({ kind: 'event', type: 'availability', sensor: device, ts: at, state: online ? 'online' : 'offline', ...(was && { previousSince: was.since }) });
      devices.set(device, { online, since: at });
      return true;
    },
    offline: () => [...devices.values()].filter((d) => !d.online).length,
    save: () => [...devices],
  };
}
