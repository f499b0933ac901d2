// Home Assistant discovery as an output: announces the device and its sensors (discovery.ts)
// retained on the fleet broker at each connection, when a new sensor's first summary goes out
// (at most every few seconds), and whenever Home Assistant says it (re)started (its birth
// message, <prefix>/status = online).
import { onceOutput, type Output } from '../output.js';
import type { LiveChannel } from '../uplink/uplink-types.js';
import type { Summary } from '../../stream/stream.js';
import { discoveryConfig, discoveryTopic } from './discovery.js';

export interface HomeAssistantOptions {
  device: string;
  topicPrefix: string;
  prefix: string;
  maxSensors: number;
  version: string;
  live: LiveChannel;
  /** Sensors known already (the latest summaries), announced at start. */
  known: () => string[];
  /** Coalesces announcements of new sensors (ms). */
  debounceMs?: number;
}

export function homeAssistantOutput(o: HomeAssistantOptions): Output {
  const sensors = new Set<string>();
  const topic = discoveryTopic(o.prefix, o.device);
  let timer: NodeJS.Timeout | undefined;
  let published = 0;
  let running = false;
  let lastError: string | null = null;
  const announce = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!running) return;
    const config = discoveryConfig({ device: o.device, topicPrefix: o.topicPrefix, sensors: [...sensors], version: o.version });
    if (o.live.publish(topic, JSON.stringify(config), true)) {
      published++;
      lastError = null;
    } else lastError = 'uplink offline: announced at the next connection';
  };
  const soon = () => {
    timer ??= setTimeout(announce, o.debounceMs ?? 2000);
  };
  return onceOutput('home-assistant', {
    open: async () => {
      running = true;
      for (const s of o.known()) if (sensors.size < o.maxSensors) sensors.add(s);
      o.live.onConnect(announce);
      o.live.watch(`${o.prefix}/status`, (_t, payload) => {
        if (payload.toString().trim() === 'online') soon();
      });
      announce();
    },
    close: async () => {
      if (timer) announce(); // a new sensor waiting to be announced is, before the uplink stops
      running = false;
    },
    health: () => ({ topic, sensors: sensors.size, published, lastError }),
    onSummary: (s: Summary) => {
      if (sensors.has(s.sensor) || sensors.size >= o.maxSensors) return;
      sensors.add(s.sensor);
      soon();
    },
  });
}
