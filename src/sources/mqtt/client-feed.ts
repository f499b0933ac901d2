// A MessageFeed from any MQTT broker (e.g. a Mosquitto already on the device), for
// `broker.enabled: false`. Uses connect() and events so a broker that starts later is fine.
import mqtt from 'mqtt';
import { redactUrl } from '../../config/redact.js';
import type { MessageFeed } from './message-feed.js';
import { topicMatches } from '../../stream/topic-filter.js';
import type { Logger } from '../../ops/logger.js';

export interface ClientFeedOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  log: Logger;
}

export function createClientFeed(opts: ClientFeedOptions): MessageFeed {
  return {
    async subscribe(filter, onMessage) {
      const client = mqtt.connect(opts.url, {
        clientId: opts.clientId,
        username: opts.username,
        password: opts.password,
        reconnectPeriod: 2_000,
        protocolVersion: 4,
        writeCache: false, // see uplink/forwarder.ts
      });
      let reported = false;
      client.on('connect', () => {
        reported = false;
        opts.log.info({ url: redactUrl(opts.url), filter }, 'mqtt source connected');
        client.subscribe(filter, { qos: 1 });
      });
      client.on('error', (err) => {
        if (!reported) opts.log.warn({ url: redactUrl(opts.url), err: err.message }, 'mqtt source cannot reach its broker; retrying every 2 s');
        reported = true;
      });
      client.on('message', (topic, payload) => {
        if (topicMatches(filter, topic)) onMessage(topic, payload);
      });
      return async () => {
        await client.endAsync();
      };
    },
  };
}
