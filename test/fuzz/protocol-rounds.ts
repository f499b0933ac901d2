// Rounds of hostile MQTT traffic against a real agent, generated from a seed. Each round makes
// real TCP connections to the agent's broker; `scale` (1 in npm test) multiplies the counts.
import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import mqtt from 'mqtt';

export interface RoundContext {
  port: number;
  random: () => number;
  scale: number;
}

export interface Round {
  name: string;
  run(ctx: RoundContext): Promise<void>;
}

const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const int = (random: () => number, n: number) => Math.floor(random() * n);

function connectPacket(clientId: string, version = 4): Buffer {
  return gen({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true, keepalive: 30, clientId, ...(version === 5 && { properties: { sessionExpiryInterval: 10 } }) });
}

/** Opens a socket, writes `chunks` (with tiny gaps), and closes it after `holdMs`. */
function blast(port: number, chunks: Buffer[], holdMs = 50): Promise<void> {
  return new Promise((resolve) => {
    const s: Socket = tcpConnect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.once('close', () => resolve());
    s.once('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) break;
        s.write(c);
        await sleep(1);
      }
      setTimeout(() => s.destroy(), holdMs);
    });
    setTimeout(() => s.destroy(), holdMs + 3000);
  });
}

/** Valid packets of every kind a client may send, for mutation. */
function validPackets(random: () => number): Buffer[] {
  const topic = `sensors/fz/${int(random, 5)}`;
  return [
    gen({ cmd: 'publish', topic, payload: Buffer.from(String(random() * 100)), qos: 1, messageId: 1 + int(random, 65000), dup: false, retain: false }),
    gen({ cmd: 'publish', topic, payload: Buffer.from('{"value":1}'), qos: 2, messageId: 7, dup: random() < 0.5, retain: false }),
    gen({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'sensors/fz/#', qos: 1 }] }),
    gen({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['sensors/fz/#'] }),
    gen({ cmd: 'pingreq' }),
    gen({ cmd: 'pubrel', messageId: 7 }),
    gen({ cmd: 'puback', messageId: 9 }),
  ];
}

function mutate(random: () => number, b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (int(random, 4)) {
    case 0: // flip bytes
      for (let i = 0; i < 1 + int(random, 4); i++) out[int(random, out.length)] = int(random, 256);
      return out;
    case 1: // truncate
      return out.subarray(0, int(random, out.length));
    case 2: // a wrong remaining length
      if (out.length > 1) out[1] = int(random, 256);
      return out;
    default: // garbage appended
      return Buffer.concat([out, Buffer.from(Array.from({ length: int(random, 64) }, () => int(random, 256)))]);
  }
}

export const ROUNDS: Round[] = [
// The two whose memory is measured against idle come first.
  {
    name: 'a PUBLISH declaring a 100 MB remaining length',
    async run({ port }) {
      // remaining length 100,000,000 as a varint, then a trickle of body bytes
      const header = Buffer.from([0x30, 0x80, 0xc2, 0xd7, 0x2f, 0x00, 0x09, ...Buffer.from('sensors/x')]);
      await Promise.all(Array.from({ length: 4 }, () => blast(port, [connectPacket(`fz-big${Math.random()}`), header, Buffer.alloc(60_000, 0x41)], 500)));
    },
  },
  {
    name: '1,000 half-open sockets that never send CONNECT',
    async run({ port }) {
      const sockets: Socket[] = [];
      for (let i = 0; i < 1000; i++) {
        const s = tcpConnect(port, '127.0.0.1');
        s.on('error', () => undefined);
        sockets.push(s);
        if (i % 100 === 99) await sleep(10);
      }
      await sleep(1500);
      for (const s of sockets) s.destroy();
    },
  },
  {
    name: 'malformed packets after CONNECT and instead of it',
    async run({ port, random, scale }) {
      const jobs: Array<Promise<void>> = [];
      for (let i = 0; i < 60 * scale; i++) {
        const packets = validPackets(random);
        const bad = Array.from({ length: 1 + int(random, 5) }, () => mutate(random, packets[int(random, packets.length)]!));
        const first = random() < 0.7 ? [connectPacket(`fz-m${i}`)] : [];
        jobs.push(blast(port, [...first, ...bad]));
        if (jobs.length >= 20) await Promise.all(jobs.splice(0));
      }
      await Promise.all(jobs);
    },
  },
  {
    name: 'CONNECT flood with 64 KB client ids, and quick connect-disconnect churn',
    async run({ port, scale }) {
      const big = 'x'.repeat(65_000);
      for (let k = 0; k < 4 * scale; k++) await Promise.all(Array.from({ length: 50 }, () => blast(port, [connectPacket(big)], 20)));
      for (let k = 0; k < 4 * scale; k++) await Promise.all(Array.from({ length: 50 }, (_, i) => blast(port, [connectPacket(`fz-churn-${k}-${i}`), gen({ cmd: 'disconnect' })], 5)));
    },
  },
  {
    name: '10,000 retained topics',
    async run({ port, scale }) {
      const clients = await Promise.all(Array.from({ length: 10 }, (_, k) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `fz-ret-${k}`, reconnectPeriod: 0 })));
      await Promise.all(
        clients.map(async (c, k) => {
          for (let i = 0; i < 1000 * scale; i++) c.publish(`retained/${k}/${i}`, 'x'.repeat(64), { qos: 0, retain: true });
          await c.publishAsync('retained/done', '1', { qos: 1 });
          await c.endAsync();
        }),
      );
    },
  },
  {
    name: 'deep and forbidden topics',
    async run({ port, random }) {
      const topics = ['sensors/' + 'a/'.repeat(150) + 'b', 'sensors/' + 'a/'.repeat(60) + 'b', 'sensors/a/#', 'sensors/+/x', 'sensors/\u0000x', 'sensors//x', '/', 'sensors/' + 'z'.repeat(60_000)];
      for (const topic of topics) {
        await blast(port, [connectPacket(`fz-t${int(random, 1e9)}`), gen({ cmd: 'publish', topic, payload: Buffer.from('1'), qos: 1, messageId: 1, dup: false, retain: false })]);
      }
    },
  },
  {
    name: 'MQTT 5 and MQTT 3.1 CONNECTs, and one SUBSCRIBE with 7,000 filters',
    async run({ port }) {
      for (let i = 0; i < 20; i++) await blast(port, [connectPacket(`fz-v5-${i}`, 5)]);
      await blast(port, [connectPacket('fz-v3', 3)]);
      const subs = Array.from({ length: 7000 }, (_, i) => ({ topic: `sensors/f${i}/#`, qos: 0 }));
      await blast(port, [connectPacket('fz-subs'), gen({ cmd: 'subscribe', messageId: 1, subscriptions: subs })], 500);
      await blast(port, [connectPacket('fz-subs2'), gen({ cmd: 'subscribe', messageId: 1, subscriptions: subs.slice(0, 2000) })], 500);
    },
  },
  {
    name: 'hostile payloads from the issue and from the generator',
    async run({ port, random, scale }) {
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      const fixed = [
        '{"value":1,"ts":1e16}', `{"value":${deep}}`, JSON.stringify([{ bt: 1e16, v: 1 }]), JSON.stringify([{ t: 1e300, v: 1 }]), JSON.stringify([{ t: -1e20, v: 1 }]),
        JSON.stringify(Array.from({ length: 5332 }, () => ({}))), '[{"bv":1e999,"v":1}]', '1e308', '{"value":-1e308}', 'NaN',
      ];
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'fz-payloads', reconnectPeriod: 0 });
      try {
        for (const p of fixed) await c.publishAsync('sensors/evil', p, { qos: 1 });
        for (let i = 0; i < 200 * scale; i++) {
          const bytes = Buffer.from(Array.from({ length: int(random, 200) }, () => int(random, 256)));
          const text = random() < 0.5 ? bytes : Buffer.from(JSON.stringify({ value: random() < 0.5 ? random() * 1e308 : 'x', ts: random() < 0.5 ? random() * 1e17 : Date.now() }));
          await c.publishAsync(`sensors/gen/${int(random, 5)}`, text, { qos: (int(random, 3) as 0 | 1 | 2) });
        }
      } finally {
        await c.endAsync(true);
      }
    },
  },
];
