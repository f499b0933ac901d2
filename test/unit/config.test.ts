import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactUrl } from '../../src/config/redact.js';
import { parseConfigText, loadConfigFile } from '../../src/config/load.js';
import { parseDuration, parseSize } from '../../src/config/units.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { topicFilterProblem } from '../../src/stream/topic-filter.js';

const minimal = `
device: { id: dev-1 }
sources: [ { type: mqtt } ]
pipelines: [ { match: ["**"], window: { type: tumbling, size: 60s } } ]
uplink: { url: "mqtt://localhost:1883" }
`;

const problems = (text: string, opts = {}) => {
  const r = parseConfigText(text, opts);
  if (r.ok) throw new Error('expected problems');
  return r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('units', () => {
  it('parses durations to milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('5 parsecs')).toBeUndefined();
  });
  it('parses decimal and binary sizes to bytes', () => {
    expect(parseSize('256MB')).toBe(256_000_000);
    expect(parseSize('64KiB')).toBe(65_536);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('100b')).toBe(100);
    expect(parseSize('12 furlongs')).toBeUndefined();
  });
});

describe('config', () => {
  it('fills defaults and derived fields', () => {
    const r = parseConfigText(minimal, { dir: '/srv/outpost' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.uplink.topicPrefix).toBe('outpost/dev-1');
    expect(r.config.uplink.clientId).toBe('outpost-dev-1');
    expect(r.config.storage.path).toBe('/srv/outpost/data/outpost.db');
    expect(r.config.storage.maxBytes).toBe(256_000_000);
    expect(r.config.pipelines[0]!.window).toEqual({ type: 'tumbling', size: 60_000, lateness: 0 });
    expect(r.config.broker).toMatchObject({ enabled: true, port: 1883 });
    expect(r.config.sources[0]).toMatchObject({ type: 'mqtt', topic: 'sensors/#', format: 'auto' });
  });

  it('lists every problem with its path, not just the first', () => {
    const list = problems(`
device: { id: "has space" }
broker: { prot: 1 }
sources:
  - { type: mqtt }
  - { type: gpi, pin: 3 }
  - { type: simulated, sensors: [ { id: a, rateHz: -1 } ] }
pipelines:
  - match: ["x"]
    window: { type: tumbling, size: 5x }
    detectors: [ { type: threshold }, { type: zscore, threshold: "x" } ]
uplink: { url: "http://x" }
storage: { maxBytes: 10QB }
schedules: { health: "every now and then" }
`);
    expect(list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^device\.id: must be/),
        expect.stringMatching(/^broker\.prot: unknown key/),
        expect.stringMatching(/^sources\[1\]\.type: type must be one of mqtt, gpio, simulated/),
        expect.stringMatching(/^sources\[2\]\.sensors\[0\]\.rateHz: /),
        expect.stringMatching(/^pipelines\[0\]\.window\.size: "5x" is not a duration/),
        expect.stringMatching(/^pipelines\[0\]\.detectors\[0\]: needs min, max or both/),
        'pipelines[0].detectors[1].threshold: must be a number, not string "x"',
        expect.stringMatching(/^uplink\.url: must start with mqtt:\/\//),
        expect.stringMatching(/^storage\.maxBytes: "10QB" is not a size/),
        'schedules.health: is not a valid cron expression',
      ]),
    );
    expect(list).toHaveLength(10);
  });

  it('refuses a topic filter a broker would refuse, with its path (the same check the code uses: stream/topic-filter.ts)', () => {
    const list = problems(minimal.replace('sources: [', 'sources: [ { type: mqtt, topic: "sensors/#/x" }, { type: mqtt, topic: "a/b+/c" }, '));
    expect(list.some((p) => p.startsWith('sources[0].topic') && /"#" must be a whole level and the last one/.test(p))).toBe(true);
    expect(list.some((p) => p.startsWith('sources[1].topic') && /"\+" must be a whole level/.test(p))).toBe(true);
    for (const ok of ['#', 'sensors/#', 'a/+/c', '+', 'a/b', '+/+/#']) expect(topicFilterProblem(ok), ok).toBeUndefined();
    for (const bad of ['', 'a/#/b', 'a#', 'a/b+', '#/a', 'x\u0000y']) expect(topicFilterProblem(bad), bad).toBeDefined();
  });

  it('reports missing required sections', () => {
    expect(problems('device: { id: d }')).toEqual([
      'sources: is required (array)',
      'pipelines: is required (array)',
      'uplink: is required (object)',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const [first] = problems('device: { id: d\nsources: [', { label: 'bad.yaml' });
    expect(first).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('checks cross-field rules', () => {
    const list = problems(minimal.replace('device: { id: dev-1 }', 'device: { id: dev-1 }\nbroker: { enabled: false }') +
      'sources:\n'.slice(0, 0));
    expect(list).toEqual(['sources[0].url: is required when broker.enabled is false (which broker should this source read?)']);
    const dup = problems(minimal.replace('sources: [ { type: mqtt } ]', 'sources: [ { type: simulated, sensors: [ {id: a/b}, {id: a/b} ] } ]'));
    expect(dup).toEqual(['sources[0].sensors[1].id: sensor "a/b" is already produced by sources[0].sensors[0].id']);
  });

  it('resolves ${env:} and ${file:} relative to the config, and names what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-cfg-'));
    writeFileSync(join(dir, 'pw.txt'), 's3cret\n');
    const text = minimal.replace('uplink: { url: "mqtt://localhost:1883" }', 'uplink: { url: "${env:FLEET_URL}", password: "${file:pw.txt}" }');
    const ok = parseConfigText(text, { dir, env: { FLEET_URL: 'mqtts://fleet:8883' } });
    expect(ok.ok && ok.config.uplink).toMatchObject({ url: 'mqtts://fleet:8883', password: 's3cret' });
    expect(problems(text, { dir: '/nonexistent', env: {} })).toEqual([
      'uplink.url: environment variable FLEET_URL is not set',
      'uplink.password: cannot read /nonexistent/pw.txt: ENOENT',
    ]);
    expect(parseConfigText(text, { dir: '/nonexistent', env: {}, resolveSecrets: false }).ok).toBe(false); // url placeholder is not a url
  });

  it('never echoes a secret in a problem', () => {
    const list = problems(minimal.replace('uplink: { url: "mqtt://localhost:1883" }', 'uplink: { url: "mqtt://x", password: 123456 }'));
    expect(list).toEqual(['uplink.password: must be a string, not a number']);
    const broken = problems(minimal.replace('device: { id: dev-1 }', 'device: { id: dev-1 }\nbroker: { auth: { users: [ { username: n1, password: "$scrypt$N=16384,r=8,p=1$c2FsdA==$Zm9vc2VjcmV0" } ] } }'));
    expect(broken).toEqual(['broker.auth.users[0].password: looks like a scrypt hash but is not a whole one (copy the full line `outpost hash-password` printed)']);
  });

  it('names the source, never the value, when a secret lands in a field of the wrong type', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-cfg-'));
    writeFileSync(join(dir, 'secret.txt'), 'hunter2-the-password\n');
    const text = minimal.replace(/window: \{[^}]*\}/, 'window: { type: tumbling, size: "${file:secret.txt}" }');
    const list = problems(text, { dir, env: {} });
    expect(list.join('\n')).not.toContain('hunter2');
    expect(list).toEqual([expect.stringMatching(/^pipelines\[0\]\.window\.size: .*\$\{file:secret\.txt\} and is not shown$/)]);
    const env = problems(minimal.replace('device: { id: dev-1 }', 'device: { id: dev-1 }\nhttp: { port: "${env:PORT_SECRET}" }'), { env: { PORT_SECRET: 'hunter2' } });
    expect(env).toEqual(['http.port: must be a number; its value comes from ${env:PORT_SECRET} and is not shown']);
  });

  it('masks URL credentials whatever the password holds', () => {
    for (const [url, masked] of [
      ['mqtt://u:p@host:1883', 'mqtt://***@host:1883'],
      ['mqtts://user:a/b@c#d@fleet.example.com:8883/x', 'mqtts://***@fleet.example.com:8883/x'],
      ['mqtt://:p%40ss@h', 'mqtt://***@h'],
      ['mqtt://fleet:1883', 'mqtt://fleet:1883'],
    ]) expect(redactUrl(url!)).toBe(masked);
  });

  it('takes the store-and-forward and broker security settings, with shares of the byte budget', () => {
    const r = parseConfigText(minimal.replace('device: { id: dev-1 }', `device: { id: dev-1 }
broker: { tls: { cert: certs/b.pem, key: certs/b.key }, plaintext: false, maxConnections: 20, maxMessageRate: 50 }
storage: { maxBytes: 64MB }`), { dir: '/etc/outpost' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.broker).toMatchObject({ plaintext: false, maxConnections: 20, maxMessageRate: 50, tls: { port: 8883, cert: '/etc/outpost/certs/b.pem', key: '/etc/outpost/certs/b.key', requireClientCert: false } });
    expect(r.config.storage.journal.maxBytes).toBe(16_000_000);
    expect(r.config.storage.deadLetters.maxBytes).toBe(4_000_000);
    expect(r.config.uplink).toMatchObject({ maxRate: 100, protocol: 'auto', persistentSession: true });
    expect(problems(minimal.replace('device: { id: dev-1 }', 'device: { id: dev-1 }\nbroker: { plaintext: false }\nstorage: { maxBytes: 10MB, journal: { maxBytes: 6MB } }'))).toEqual([
      'broker.plaintext: false needs broker.tls (otherwise nothing listens)',
      'storage.journal.maxBytes: must not exceed half of storage.maxBytes (the outbox needs the rest)',
    ]);
    expect(problems(minimal.replace('device: { id: dev-1 }', 'device: { id: dev-1 }\nstorage: { maxBytes: 500KB }'))).toEqual(['storage.maxBytes: must be at least 1MB']);
  });

  it('reads files and reports a missing one', () => {
    const r = loadConfigFile('/definitely/not/here.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]!.message).toMatch(/cannot read config file \(ENOENT\)/);
  });

  it('derives a JSON Schema that describes user input', () => {
    const schema = configJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['device', 'sources', 'pipelines', 'uplink']));
    expect(schema.properties.storage!.properties!.maxBytes).toMatchObject({ type: 'string' });
  });

  it('takes all four window kinds and checks hopping steps', () => {
    const kinds = ['{ type: tumbling, size: 60s }', '{ type: hopping, size: 5m, step: 1m }', '{ type: count, size: 100 }', '{ type: session, gap: 5m, lateness: 5s }'];
    for (const k of kinds) expect(parseConfigText(minimal.replace('{ type: tumbling, size: 60s }', k)).ok).toBe(true);
    expect(problems(minimal.replace('{ type: tumbling, size: 60s }', '{ type: hopping, size: 1m, step: 5m }'))).toEqual(['pipelines[0].window.step: step must not exceed size (windows would leave gaps)']);
    expect(problems(minimal.replace('{ type: tumbling, size: 60s }', '{ type: sliding, size: 1m }'))).toEqual(['pipelines[0].window.type: window.type must be tumbling, hopping, count or session']);
  });
});
