// Config -> Source objects. Explicit wiring: no plugin registers itself by being imported.
import { createHash } from 'node:crypto';
import type { AgentConfig } from '../config/load.js';
import type { Source, Clock } from '../sources/source.js';
import type { MessageFeed } from '../sources/mqtt/message-feed.js';
import { createMqttSource } from '../sources/mqtt/mqtt-source.js';
import { createClientFeed } from '../sources/mqtt/client-feed.js';
import { createSimulatedSource } from '../sources/simulated/simulated-source.js';
import { createGpioSource } from '../sources/gpio/gpio-source.js';
import type { GpioDriver } from '../gpio/gpio-driver.js';
import { createOnoffDriver } from '../gpio/onoff-driver.js';
import { createSimulatedGpioDriver } from '../gpio/simulated-driver.js';
import type { Logger } from '../ops/logger.js';
import { BUILD_FLOOR } from '../ops/build-info.js';

/** The slice of the config the sources are built from. */
export type SourcesConfig = Pick<AgentConfig, 'sources' | 'device' | 'limits' | 'gpio'> & { storage: Pick<AgentConfig['storage'], 'ackAfterCommit'> };

export interface SourceDeps {
  config: SourcesConfig;
  /** The embedded broker, when enabled. */
  localFeed?: MessageFeed;
  clock: Clock;
  log: Logger;
  /** Replaces the onoff driver (tests). */
  gpioDriver?: GpioDriver;
}

/**
 * The persistent session's client id: stable across restarts, and new when the topic changes
 * (a fresh session then subscribes to the new topic and takes its retained state once).
 */
export function defaultClientId(device: string, topic: string): string {
  return `outpost-${device}-${createHash('sha256').update(topic).digest('hex').slice(0, 8)}`;
}

export function buildSources({ config, localFeed, clock, log, gpioDriver }: SourceDeps): Source[] {
  return config.sources.map((s, i): Source => {
    switch (s.type) {
      case 'mqtt': {
        const feed = s.url
          ? createClientFeed({ url: s.url, clientId: s.clientId ?? defaultClientId(config.device.id, s.topic), username: s.username, password: s.password, retained: s.retained, log })
          : localFeed;
        if (!feed) throw new Error(`sources[${i}]: broker.enabled is false and no url is given`);
        return createMqttSource({
          topic: s.topic,
          format: s.format,
          maxPayloadBytes: config.limits.maxPayloadBytes,
          feed,
          clock,
          time: { floor: BUILD_FLOOR, horizon: config.limits.timestampHorizon },
          ackAfterCommit: config.storage.ackAfterCommit,
          onInternalError: (err, topic) => log.error({ source: `mqtt:${s.topic}`, topic: topic.slice(0, 200), err: (err as Error)?.stack ?? String(err) }, 'internal error on a message: dead-lettered (reason internal-error); please report this'),
        });
      }
      case 'simulated':
        return createSimulatedSource({ sensors: s.sensors, seed: s.seed, clock });
      case 'gpio':
        return createGpioSource({
          ...s,
          driver: s.simulate || config.gpio.simulate ? createSimulatedGpioDriver() : (gpioDriver ?? createOnoffDriver(config.gpio.sysfs)),
          clock,
        });
    }
  });
}
