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
import type { MqttSourceConfig } from '../config/schema.js';
import { PRESETS } from '../sources/mqtt/presets/index.js';
import { genericDecoder, type DecodeSettings, type TopicDecoder } from '../sources/mqtt/topic-decoder.js';
import { stateWords } from '../sources/mqtt/scalar-value.js';
import { DEFAULT_TIME_FIELDS } from '../sources/mqtt/fields-format.js';
import { compileGlobs } from '../stream/glob.js';
import { cachedByTopic, compareSpecificity, topicMatches } from '../stream/topic-filter.js';

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
  const time = { floor: BUILD_FLOOR, horizon: config.limits.timestampHorizon, skewMs: config.limits.maxFutureSkew };
  // Ids GPIO and simulated sources produce: no MQTT message may pass for one of them.
  const reserved = new Set(config.sources.flatMap((s) => (s.type === 'gpio' ? [s.sensor] : s.type === 'simulated' ? s.sensors.map((x) => x.id) : [])));
  const decoders = config.sources.map((s) => (s.type === 'mqtt' ? mqttDecoder(s, config.limits.maxPayloadBytes, time) : undefined));
  return config.sources.map((s, i): Source => {
    switch (s.type) {
      case 'mqtt': {
        const { decoder, name, filterKey } = decoders[i]!;
        // Sources on the same broker whose filters overlap: each message goes to one of them.
        const rivals = config.sources.flatMap((o, j) => (o.type === 'mqtt' && j !== i && sameBroker(o.url, s.url) ? [{ index: j, filters: decoders[j]!.decoder.filters }] : []));
        const feed = s.url
          ? createClientFeed({ url: s.url, clientId: s.clientId ?? defaultClientId(config.device.id, filterKey), username: s.username, password: s.password, retained: s.retained, log })
          : localFeed;
        if (!feed) throw new Error(`sources[${i}]: broker.enabled is false and no url is given`);
        return createMqttSource({
          name,
          decoder,
          prefix: s.prefix,
          reserved,
          // Decided once per distinct topic (bounded cache): the same topics come again and again.
          claimedElsewhere: rivals.length > 0 ? cachedByTopic((topic) => claimedByRival(topic, i, decoder.filters, rivals)) : undefined,
          maxPayloadBytes: config.limits.maxPayloadBytes,
          feed,
          clock,
          ackAfterCommit: config.storage.ackAfterCommit,
          onInternalError: (err, topic) => log.error({ source: name, topic: topic.slice(0, 200), err: (err as Error)?.stack ?? String(err) }, 'internal error on a message: dead-lettered (reason internal-error); please report this'),
          onStaleSkipped: (topic) => log.info({ source: name, topic: topic.slice(0, 200) }, 'mqtt source: retained message skipped (old state kept by the broker, not a new reading); set retained: ingest on the source to take them'),
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

/** Whether two sources read the same broker: both the embedded one, or URLs naming the same host and port. */
function sameBroker(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const key = (url: string) => {
    try {
      const u = new URL(url.replace(/^tcp:/, 'mqtt:').replace(/^ssl:/, 'mqtts:'));
      const host = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) ? 'loopback' : u.hostname.toLowerCase();
      return `${host}:${u.port || (u.protocol === 'mqtts:' ? '8883' : '1883')}`;
    } catch {
      return url;
    }
  };
  return key(a) === key(b);
}

/**
 * Whether a message this source matched belongs to another source on the same broker: the one
 * whose matching filter names the topic more specifically (statestream's homeassistant/+/+/state
 * over ESPHome's +/sensor/+/state), or, on a tie, the one listed first.
 */
function claimedByRival(topic: string, self: number, own: readonly string[], rivals: ReadonlyArray<{ index: number; filters: readonly string[] }>): boolean {
  const mine = own.filter((f) => topicMatches(f, topic)).sort(compareSpecificity)[0];
  if (mine === undefined) return false;
  return rivals.some(({ index, filters }) =>
    filters.some((f) => {
      if (!topicMatches(f, topic)) return false;
      const c = compareSpecificity(f, mine);
      return c < 0 || (c === 0 && index < self);
    }),
  );
}

/** The decoder of an MQTT source's config: its preset's, or the generic one for its topic and format. */
export function mqttDecoder(s: MqttSourceConfig, maxBytes: number, limits: { floor: number; horizon: number; skewMs: number }): { decoder: TopicDecoder; name: string; filterKey: string } {
  const preset = s.preset ? PRESETS[s.preset] : undefined;
  // Device times bounded by the receive time only for firmwares that stamp as they send.
  const time = preset?.liveTime ? limits : { floor: limits.floor, horizon: limits.horizon };
  const exclude = s.exclude ?? preset?.exclude ?? [];
  const include = s.include && compileGlobs(s.include);
  const excluded = exclude.length > 0 ? compileGlobs(exclude) : undefined;
  const settings: DecodeSettings = {
    maxBytes,
    time,
    states: stateWords(s.states),
    keep: (path) => (!include || include(path)) && !excluded?.(path),
    timeFields: s.timeFields ?? preset?.timeFields ?? DEFAULT_TIME_FIELDS,
    timezone: s.timezone,
  };
  if (s.preset && preset) {
    const base = s.base ?? preset.base;
    const name = `mqtt:${s.preset}${s.base !== undefined ? `@${s.base}` : ''}`;
    return { decoder: preset.decoder(base, settings), name, filterKey: name };
  }
  const topic = s.topic ?? 'sensors/#';
  return { decoder: genericDecoder(topic, s.format ?? 'auto', settings), name: `mqtt:${topic}`, filterKey: topic };
}
