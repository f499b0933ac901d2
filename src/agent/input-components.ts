// The inputs as components: the local broker (created first, so the sources subscribe to it
// before anything can publish), each source, and the broker's listeners (opened after every
// source is in place, closed first at stop: the broker drains and stops taking publishes
// before the sources let go of it, so no publish is acknowledged with no source to take it).
import { createEmbeddedBroker, type UnopenedBroker } from '../broker/embedded-broker.js';
import { brokerOptions } from './broker-options.js';
import type { Source } from '../sources/source.js';
import type { MessageFeed } from '../sources/mqtt/message-feed.js';
import { bump } from '../ops/stats.js';
import type { Component } from './lifecycle.js';
import type { AgentContext, AgentParts } from './agent-parts.js';

const DRAIN_MS = 3000;

export function brokerComponent({ config, log, stats }: AgentContext, parts: AgentParts): Component {
  let broker: UnopenedBroker | undefined;
  return {
    name: 'local broker',
    async start() {
      broker = await createEmbeddedBroker(brokerOptions(config.broker, log, (reason) => bump(stats.brokerRejections, reason)));
      parts.broker = broker;
    },
    stop: async () => broker?.close(), // closed already by its listeners' stop, unless they never opened
  };
}

export function brokerListenersComponent(parts: AgentParts): Component {
  let listening = false;
  return {
    name: 'local broker listeners',
    async start() {
      listening = true;
      await parts.broker!.listen();
    },
    async stop() {
      if (!listening) return;
      await parts.broker?.drain(DRAIN_MS);
      await parts.broker?.close();
    },
  };
}

export function sourceComponent(source: Source, { log }: AgentContext, parts: AgentParts): Component {
  return {
    name: `source ${source.name}`,
    async start() {
      parts.sources.push(source);
      await source.start(parts.ingest!.sinkFor(source.name));
    },
    async stop() {
      await source.stop().catch((err: Error) => log.warn({ source: source.name, err: err.message }, 'source did not stop cleanly'));
      parts.sources.splice(parts.sources.indexOf(source), 1);
    },
  };
}

/** The local broker as a feed, for sources built before the broker component has created it. */
export function lazyFeed(broker: () => MessageFeed | undefined): MessageFeed {
  return {
    subscribe(filter, onMessage, onRefused) {
      const b = broker();
      if (!b) return Promise.reject(new Error('the local broker is not running'));
      return b.subscribe(filter, onMessage, onRefused);
    },
  };
}
