// Rule events in the fleet read model: a raised rule is an open alert of kind "rule" named by
// the rule's id, with its evidence; its clear closes it, in either arrival order (a cleared
// event that overtakes its raise leaves no open alert).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/agent-config.js';
import type { Cleanups } from '../helpers/running.js';
import { startFleetService } from '../../src/fleet/fleet-service.js';
import { fleetConfigSchema } from '../../src/fleet/fleet-config.js';
import { readMessage } from '../../src/fleet/read-message.js';
import { listAlerts } from '../../src/fleet/fleet-queries.js';
import { silentLogger } from '../../src/ops/logger.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const event = (seq: number, state: 'raised' | 'cleared', rule: string, ts: string) =>
  JSON.stringify({ v: 1, id: `d-1:${seq}`, device: 'd-1', kind: 'rule', ts, rule, state, severity: 'major', since: '2026-11-29T10:00:00.000Z', heldS: 300, ...(state === 'cleared' && { raisedAt: '2026-11-29T10:05:00.000Z' }), values: { 'fridge/temp': 9.1, 'fridge/door': 1 }, message: 'door open and warm' });

describe('rule events in the fleet', () => {
  it('become alerts named by the rule, closed by their clear in any order', async () => {
    const dir = tempDir();
    const svc = await startFleetService(fleetConfigSchema.parse({ broker: { url: 'mqtt://127.0.0.1:1' }, store: { path: join(dir, 'fleet.db') }, http: { port: 0 } }), silentLogger());
    cleanups.push(() => svc.stop());
    const entry = (seq: number, state: 'raised' | 'cleared', rule: string, ts: string) => {
      const r = readMessage(['outpost/+'], `outpost/d-1/event/${rule}`, event(seq, state, rule, ts), Date.now());
      if (!('entry' in r)) throw new Error(JSON.stringify(r));
      return r.entry;
    };
    await svc.store.accept([entry(1, 'raised', 'fridge-door-warm', '2026-11-29T10:05:00.000Z')]);
    // The clear of another rule arrives before its raise.
    await svc.store.accept([entry(4, 'cleared', 'pump-dry-run', '2026-11-29T10:09:00.000Z')]);
    await svc.store.accept([entry(3, 'raised', 'pump-dry-run', '2026-11-29T10:08:00.000Z')]);
    let alerts = await listAlerts(svc.store.db, undefined, 'd-1');
    expect(alerts.map((a) => [a.kind, a.subject, a.state])).toEqual([
      ['rule', 'pump-dry-run', 'cleared'],
      ['rule', 'fridge-door-warm', 'open'],
    ]);
    expect(alerts[1]!.message).toMatchObject({ values: { 'fridge/temp': 9.1, 'fridge/door': 1 }, since: '2026-11-29T10:00:00.000Z' });
    await svc.store.accept([entry(2, 'cleared', 'fridge-door-warm', '2026-11-29T10:07:00.000Z')]);
    alerts = await listAlerts(svc.store.db, 'open', 'd-1');
    expect(alerts).toEqual([]);
    // A rule id that is no topic level is refused as a schema violation (a dead letter).
    expect(readMessage(['outpost/+'], 'outpost/d-1/event/x', event(9, 'raised', 'a b', '2026-11-29T10:00:00.000Z'), Date.now())).toMatchObject({ dead: { reason: 'schema' } });
  });
});
