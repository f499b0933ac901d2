// What the fleet takes from a topic and a payload: inherited names are no message kinds (a
// topic level "constructor" crashed the first version), depth counts nesting (not brackets),
// device ids are the agent's (so no id passes for one of the fleet's own keys).
import { describe, expect, it } from 'vitest';
import { readMessage } from '../../src/fleet/read-message.js';

const at = Date.parse('2026-11-29T10:00:00.000Z');
const anomaly = (o: Record<string, unknown> = {}) => JSON.stringify({ v: 1, id: 'pi:7', device: 'pi', sensor: 's', ts: '2026-11-29T10:00:00.000Z', value: 1, detector: 'x', severity: 'warning', score: 0.5, message: 'm', evidence: {}, ...o });

describe('fleet: reading a message', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('%s is no message kind: ignored, not a crash', (kind) => {
    expect(readMessage(['outpost/+'], `outpost/pi/${kind}`, '{"v":1}', at)).toEqual({ ignored: true });
  });
  it('counts nesting, not brackets: a message with many lists in its text is read', () => {
    const r = readMessage(['outpost/+'], 'outpost/pi/anomaly/s', anomaly({ message: '[]'.repeat(40) }), at);
    expect('entry' in r).toBe(true);
    const deep = readMessage(['outpost/+'], 'outpost/pi/anomaly/s', `${'['.repeat(40)}${']'.repeat(40)}`, at);
    expect(deep).toEqual({ dead: { reason: 'bad-json', detail: 'nested deeper than 32' } });
  });
  it('refuses a device that is no Outpost device id, another v, and a schema violation, with reasons', () => {
    expect(readMessage(['outpost/+'], 'outpost/x/anomaly/s', anomaly({ id: 'status:outpost/x:1:0', device: 'status:outpost/x:1' }), at)).toMatchObject({ dead: { reason: 'schema' } });
    expect(readMessage(['outpost/+'], 'outpost/x/anomaly/s', anomaly({ v: 2 }), at)).toMatchObject({ dead: { reason: 'unknown-version' } });
    expect(readMessage(['outpost/+'], 'outpost/x/anomaly/s', anomaly({ score: 7 }), at)).toMatchObject({ dead: { reason: 'schema', detail: expect.stringContaining('score') } });
    expect(readMessage(['outpost/+'], 'other/x/anomaly/s', anomaly(), at)).toEqual({ ignored: true });
  });
  it('dead-letters what no store could keep (found on PostgreSQL: a batch with it failed at every redelivery)', () => {
    expect(readMessage(['outpost/+'], 'outpost/x/anomaly/s', anomaly({ message: 'a\u0000b' }), at)).toMatchObject({ dead: { reason: 'bad-json', detail: 'contains a NUL character' } });
    expect(readMessage(['outpost/+'], 'outpost/x/anomaly/s', anomaly({ id: 'pi:12345678901234567890' }), at)).toMatchObject({ dead: { reason: 'schema', detail: expect.stringContaining('2^53') } });
    expect(readMessage(['outpost/+'], 'outpost/x/anomaly/s', anomaly({ sensor: 's'.repeat(3200) }), at)).toMatchObject({ dead: { reason: 'schema', detail: expect.stringContaining('longer than 1024') } });
  });
});
