// The agent's HTTP endpoint as a hostile page or LAN client would try it: write actions need the
// token, a JSON content type and a bounded, valid body; a foreign Host header is refused
// (DNS rebinding); /status shows no file paths.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet } from '../helpers/fleet.js';
import { baseYaml, testConfig } from '../helpers/agent-config.js';
import { httpTokenPath } from '../../src/ops/http-token.js';
import { parseReplayRequest } from '../../src/ops/http-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function running(extra = ''): Promise<Agent> {
  const fleet = await startFleet();
  cleanups.push(() => fleet.stop());
  const agent = createAgent({ config: testConfig(baseYaml({ fleetUrl: fleet.url, extra })), log: silentLogger() });
  cleanups.push(() => agent.stop());
  await agent.start();
  return agent;
}

/** A raw request, so Host and the body can be anything. */
function send(port: number, o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (err) => (/ECONNRESET|EPIPE/.test(err.message) ? resolve({ status: 413, body: 'connection closed' }) : reject(err)));
    req.end(o.body);
  });
}

describe('http endpoint security', () => {
  it('write actions: 401 without the token, 415 for a form, 413 for a huge body, 400 for a bad filter, 200 when right', async () => {
    const agent = await running();
    const port = agent.httpPort!;
    const tokenFile = httpTokenPath(agent.config.storage.path);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const json = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const post = (headers: Record<string, string>, body: string | Buffer) => send(port, { method: 'POST', path: '/deadletters/replay', headers, body });

    expect((await post({ 'content-type': 'application/json' }, '{}')).status).toBe(401);
    expect((await post({ 'content-type': 'application/json', authorization: 'Bearer wrong-token-wrong-token' }, '{}')).status).toBe(401);
    // A cross-site form can send text/plain without a preflight: refused.
    expect((await post({ 'content-type': 'text/plain', authorization: `Bearer ${token}` }, '{}')).status).toBe(415);
    expect((await post({ 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` }, 'a=1')).status).toBe(415);
    expect((await post(json, Buffer.alloc(2_000_000, 0x20))).status).toBe(413);
    const bad = await post(json, '{"limit": "all"}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/limit/);
    expect((await post(json, '{not json')).status).toBe(400);
    expect((await post(json, '[1,2]')).status).toBe(400);
    const ok = await post(json, '{"reason": "bad-json"}');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ replayed: 0, skipped: [] });
    // Still serving.
    expect((await send(port, { path: '/healthz' })).status).toBe(200);
  });

  it('refuses a Host it does not know (DNS rebinding), answers to IPs, localhost and http.allowedHosts', async () => {
    const agent = await running('');
    const port = agent.httpPort!;
    expect((await send(port, { path: '/status', headers: { host: 'attacker.example:9464' } })).status).toBe(421);
    expect((await send(port, { path: '/status', headers: { host: `127.0.0.1:${port}` } })).status).toBe(200);
    expect((await send(port, { path: '/status', headers: { host: `localhost:${port}` } })).status).toBe(200);
    expect((await send(port, { path: '/healthz', headers: { host: '[::1]' } })).status).toBe(200);
  });

  it('a configured token is the one it takes; /status shows no file paths', async () => {
    const agent = await running('');
    await agent.stop();
    const withToken = createAgent({ config: { ...agent.config, http: { ...agent.config.http, token: 'a-token-of-at-least-16', allowedHosts: ['pi.local'] } }, log: silentLogger() });
    cleanups.push(() => withToken.stop());
    await withToken.start();
    const port = withToken.httpPort!;
    const post = (token: string) => send(port, { method: 'POST', path: '/deadletters/replay', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, host: 'pi.local:9464' }, body: '{}' });
    expect((await post('a-token-of-at-least-16')).status).toBe(200);
    expect((await post(readFileSync(httpTokenPath(agent.config.storage.path), 'utf8').trim())).status).toBe(401);
    const status = await send(port, { path: '/status' });
    expect(status.body).not.toContain(agent.config.storage.path);
    expect(status.body).not.toMatch(/"\/(tmp|home|var|etc)\//);
  });

  it('validates replay filters from generated bodies: a filter or a 400, never a throw of another kind', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (body) => {
        try {
          const f = parseReplayRequest(body);
          expect(Object.keys(f).every((k) => ['reason', 'ids', 'limit'].includes(k))).toBe(true);
        } catch (err) {
          expect((err as { refusal?: { status: number } }).refusal?.status).toBe(400);
        }
      }),
      { seed: 20_261_129, numRuns: 300 },
    );
  });
});
