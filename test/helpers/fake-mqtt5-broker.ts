// A minimal MQTT 5 broker for uplink tests: CONNACK (optionally with a Receive Maximum), then a
// PUBACK for each QoS 1 PUBLISH after `delayMs`, with the reason code `decide` returns (`seen`:
// how many times this payload has arrived). Real TCP; only what the forwarder needs.
import { createServer, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface FakeBroker {
  port: number;
  /** Every QoS 1 PUBLISH, in arrival order, with the reason code it got. */
  log: Array<{ payload: string; rc: number }>;
  close(): void;
}

export async function startFakeMqtt5Broker(o: { delayMs: number; decide: (payload: string, seen: number) => number; receiveMaximum?: number }): Promise<FakeBroker> {
  const seen = new Map<string, number>();
  const log: FakeBroker['log'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p: object) => {
      if (!s.destroyed) s.write(mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: 5 }));
    };
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false, properties: o.receiveMaximum ? { receiveMaximum: o.receiveMaximum } : undefined });
      else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else if (p.cmd === 'publish' && p.qos === 1) {
        const payload = p.payload.toString();
        const n = (seen.get(payload) ?? 0) + 1;
        seen.set(payload, n);
        const rc = o.decide(payload, n);
        log.push({ payload, rc });
        setTimeout(() => send({ cmd: 'puback', messageId: p.messageId, reasonCode: rc }), o.delayMs);
      }
    });
    s.on('data', (d) => parser.parse(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    log,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
