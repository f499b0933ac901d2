// A real Mosquitto (Debian's package) on a free loopback port, with persistence so a restart
// keeps queued messages for persistent-session subscribers, as a production fleet broker does.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './ports.js';

export { freePort };
import { join } from 'node:path';
import { tempDir } from './agent-config.js';
import { waitFor } from './wait.js';

export function requireMosquitto(): void {
  for (const bin of ['mosquitto', 'mosquitto_pub', 'mosquitto_sub']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${bin} is not installed: apt-get install -y mosquitto mosquitto-clients (.ci/run does this)`);
    }
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

export interface Mosquitto {
  /** The plain listener. */
  port: number;
  url: string;
  /** The TLS listener, when asked for. */
  tlsPort?: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface MosquittoTls {
  ca: string;
  cert: string;
  key: string;
  /** Clients must present a certificate signed by `ca` (mutual TLS). */
  requireCertificate: boolean;
}

/** `acl`: lines of a Mosquitto ACL file (anonymous clients), e.g. "topic deny x/#". */
export async function startMosquitto(opts: { tls?: MosquittoTls; acl?: string[]; extra?: string[] } = {}): Promise<Mosquitto> {
  requireMosquitto();
  const dir = tempDir('outpost-mosquitto-');
  // Started as root, mosquitto drops to user "mosquitto": it must be able to save its state here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    'per_listener_settings false',
    `listener ${port} 127.0.0.1`,
    ...(opts.tls
      ? [
          `listener ${tlsPort} 127.0.0.1`,
          `cafile ${opts.tls.ca}`,
          `certfile ${opts.tls.cert}`,
          `keyfile ${opts.tls.key}`,
          `require_certificate ${opts.tls.requireCertificate}`,
        ]
      : []),
    'allow_anonymous true',
    ...(opts.acl ? [`acl_file ${join(dir, 'acl')}`] : []),
    'persistence true',
    `persistence_location ${dir}/`,
    'max_queued_messages 100000',
    ...(opts.extra ?? []),
    'log_type error',
    '',
  ].join('\n'));
  if (opts.acl) writeFileSync(join(dir, 'acl'), `${opts.acl.join('\n')}\n`);
  const bin = execFileSync('sh', ['-c', 'command -v mosquitto || echo /usr/sbin/mosquitto']).toString().trim();
  let child: ChildProcess | undefined;
  const m: Mosquitto = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    tlsPort,
    async start() {
      child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
      await waitFor(`mosquitto listening on ${port}`, async () => (await portOpen(port)) && (tlsPort === undefined || (await portOpen(tlsPort))), 10_000);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM'); // mosquitto saves its persistence file on SIGTERM
      await exited;
      child = undefined;
    },
  };
  await m.start();
  return m;
}

export interface Subscriber {
  lines: string[];
  /** Parsed JSON payloads of summary and anomaly messages, in arrival order. */
  messages(): Array<{ topic: string; json: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** mosquitto_sub with a persistent session (QoS 1), printing "topic payload" lines. */
export function subscribe(port: number, topic: string, clientId: string): Subscriber {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', '1', '-v', '-c', '-i', clientId], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return {
    lines,
    messages: () =>
      lines
        .map((l) => {
          const space = l.indexOf(' ');
          return { topic: l.slice(0, space), payload: l.slice(space + 1) };
        })
        .filter((m) => /\/(summary|anomaly)\//.test(m.topic))
        .map((m) => ({ topic: m.topic, json: JSON.parse(m.payload) as Record<string, unknown> })),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** mosquitto_pub -l: one message per stdin line, over one connection. */
export function publishLines(port: number, topic: string, lines: string[], qos = 1): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', String(qos), '-l'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_pub exited ${code}: ${err}`))));
    child.stdin.end(lines.join('\n') + '\n');
  });
}
