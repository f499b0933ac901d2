// A stand-in fleet broker for tests: a real MQTT broker on a real TCP port that records every
// message it accepts (recorded before its PUBACK, so "recorded" means "reached the broker").
import { createEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { silentLogger } from '../../src/ops/logger.js';

export interface Received {
  topic: string;
  payload: string;
  json: Record<string, unknown> | undefined;
}

export interface Fleet {
  port: number;
  url: string;
  received: Received[];
  /** Message ids in arrival order (summaries and anomalies only). */
  ids(): string[];
  stop(): Promise<void>;
  /** Starts again on the same port. */
  restart(): Promise<void>;
}

export async function startFleet(port = 0): Promise<Fleet> {
  const received: Received[] = [];
  let broker: EmbeddedBroker;
  const start = async (p: number) => {
    // Subscribed before the port opens: a device reconnecting at once must not publish into a
    // broker that acknowledges what nobody records yet (a race that loaded machines do hit).
    const unopened = await createEmbeddedBroker({ host: '127.0.0.1', port: p, log: silentLogger(), allowAnonymousWildcards: true });
    broker = unopened;
    await broker.subscribe('#', (topic, payload) => {
      const text = payload.toString();
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      received.push({ topic, payload: text, json });
    });
    await unopened.listen();
  };
  await start(port);
  const fleet: Fleet = {
    port: broker!.port,
    url: `mqtt://127.0.0.1:${broker!.port}`,
    received,
    ids: () => received.filter((r) => /\/(summary|anomaly)\//.test(r.topic)).map((r) => String(r.json?.id)),
    stop: () => broker.close(),
    restart: () => start(fleet.port),
  };
  return fleet;
}

/** seq numbers from "<device>:<seq>" ids. */
export const seqOf = (id: string) => Number(id.slice(id.lastIndexOf(':') + 1));

/** First occurrence of each id, in arrival order, and how many arrivals were repeats. */
export function dedupe(ids: string[]): { unique: string[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    unique.push(id);
  }
  return { unique, duplicates: ids.length - unique.length };
}
