// The fleet service's HTTP side: refuses to start open to the network without a token, refuses
// cross-site and foreign-Host requests, keeps an audit of acknowledgements, which a rebuild
// keeps (they are in the log), and streams changes as server-sent events.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { tempDir } from '../helpers/agent-config.js';
import { runCli } from '../helpers/cli.js';
import type { Cleanups } from '../helpers/running.js';
import { startFleetService } from '../../src/fleet/fleet-service.js';
import { fleetConfigSchema, loadFleetConfig } from '../../src/fleet/fleet-config.js';
import { readMessage } from '../../src/fleet/read-message.js';
import { silentLogger } from '../../src/ops/logger.js';
import { hashPassword } from '../../src/ops/password-hash.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const ANOMALY = JSON.stringify({ v: 1, id: 'd-1:42', device: 'd-1', sensor: 'a/t', ts: '2026-11-29T10:00:00.000Z', value: 9, detector: 'threshold', severity: 'critical', score: 1, message: 'too warm', evidence: { max: 8 } });

async function service(http: Record<string, unknown> = {}) {
  const dir = tempDir();
  const cfg = fleetConfigSchema.parse({ broker: { url: 'mqtt://127.0.0.1:1' }, store: { path: join(dir, 'fleet.db') }, http: { port: 0, ...http } });
  const svc = await startFleetService(cfg, silentLogger());
  cleanups.push(() => svc.stop());
  const r = readMessage(['outpost/+'], 'outpost/d-1/anomaly/a/t', ANOMALY, Date.now());
  if (!('entry' in r)) throw new Error('fixture');
  await svc.store.accept([r.entry]);
  return svc;
}

/** A raw request (fetch would not send a foreign Host or Origin). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('fleet HTTP security', () => {
  it('will not listen beyond loopback without a token: check and start both refuse', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'fleet.yaml'), 'broker: { url: "mqtt://127.0.0.1:1" }\nhttp: { host: 0.0.0.0, port: 0 }\n');
    const r = loadFleetConfig(join(dir, 'fleet.yaml'));
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(['http.token']);
    const cli = await runCli(['fleet', '--config', join(dir, 'fleet.yaml')]);
    expect(cli.code).toBe(78);
    expect(cli.stderr).toMatch(/http\.token: \(or http\.auth\) is required when http\.host is 0\.0\.0\.0/);
  });

  it('refuses a cross-site POST, a form POST and a foreign Host; acknowledges a same-origin one, audited and kept by a rebuild', async () => {
    const svc = await service();
    const port = svc.httpPort;
    const host = `127.0.0.1:${port}`;
    const ack = '/api/anomalies/d-1%3A42/ack';
    expect((await send(port, 'POST', ack, { host, origin: 'http://evil.example', 'content-type': 'application/json' }, '{}')).status).toBe(403);
    expect((await send(port, 'POST', ack, { host, 'content-type': 'text/plain' }, '{}')).status).toBe(415);
    expect((await send(port, 'GET', '/api/devices', { host: 'evil.example' })).status).toBe(421);
    const ok = await send(port, 'POST', ack, { host, origin: `http://${host}`, 'content-type': 'application/json' }, '{"by":"alice"}');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ id: 'd-1:42', state: 'acknowledged', by: expect.stringMatching(/^alice \(loopback/) });
    expect(await svc.store.db.all('SELECT who, action, target FROM audit')).toEqual([{ who: expect.stringMatching(/^alice/), action: 'acknowledge', target: 'd-1:42' }]);
    await svc.store.rebuild();
    const after = JSON.parse((await send(port, 'GET', '/api/anomalies', { host })).body) as Array<{ state: string; ackedBy: string }>;
    expect(after).toEqual([expect.objectContaining({ state: 'acknowledged', ackedBy: expect.stringMatching(/^alice/) })]);
  });

  it('with http.token, every API request needs it (the events stream as ?token=)', async () => {
    const token = 'a-token-of-some-length';
    const svc = await service({ token });
    const port = svc.httpPort;
    const host = `127.0.0.1:${port}`;
    expect((await send(port, 'GET', '/api/devices', { host })).status).toBe(401);
    expect((await send(port, 'GET', '/api/devices', { host, authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await send(port, 'GET', '/', { host })).status).toBe(200); // the page itself asks for the token
    const events = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: `/api/events?token=${token}`, headers: { host } }, (res) => {
        resolve(res.statusCode!);
        req.destroy();
      });
      req.end();
    });
    expect(events).toBe(200);
  });

  it('with http.auth users: a login gives an HttpOnly SameSite=Strict session, and writes need its CSRF token', async () => {
    const svc = await service({ host: '0.0.0.0', auth: { users: [{ username: 'alice', password: await hashPassword('s3cret pass') }] } });
    const port = svc.httpPort;
    const host = `127.0.0.1:${port}`;
    const json = { host, 'content-type': 'application/json' };
    expect(JSON.parse((await send(port, 'GET', '/api/devices', { host })).body)).toMatchObject({ login: 'users' });
    expect((await send(port, 'POST', '/api/login', json, '{"username":"alice","password":"wrong"}')).status).toBe(401);
    expect((await send(port, 'POST', '/api/login', json, '{"username":"mallory","password":"s3cret pass"}')).status).toBe(401);
    const login = await new Promise<{ cookie: string; csrf: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/login', headers: json }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ cookie: String(res.headers['set-cookie']), csrf: (JSON.parse(text) as { csrf: string }).csrf }));
      });
      req.on('error', reject);
      req.end('{"username":"alice","password":"s3cret pass"}');
    });
    expect(login.cookie).toMatch(/^outpost_fleet=[\w-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    const cookie = login.cookie.split(';')[0]!;
    expect((await send(port, 'GET', '/api/devices', { host, cookie })).status).toBe(200);
    const ack = '/api/anomalies/d-1%3A42/ack';
    expect((await send(port, 'POST', ack, { ...json, cookie }, '{}')).status).toBe(403); // no CSRF token
    expect((await send(port, 'POST', ack, { ...json, cookie, 'x-csrf-token': 'guess' }, '{}')).status).toBe(403);
    const ok = await send(port, 'POST', ack, { ...json, cookie, 'x-csrf-token': login.csrf }, '{"by":"someone else"}');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).by).toMatch(/^alice \(session/); // the session says who, not the body
    expect((await send(port, 'GET', '/api/anomalies/x%ZZ/ack', { host, cookie })).status).toBe(400); // bad percent-encoding
    // Guessing: after 5 failed logins from one address it must wait, even with the right password.
    for (let i = 0; i < 5; i++) expect((await send(port, 'POST', '/api/login', json, '{"username":"alice","password":"guess"}')).status).toBe(401);
    expect((await send(port, 'POST', '/api/login', json, '{"username":"alice","password":"s3cret pass"}')).status).toBe(429);
  });
});
