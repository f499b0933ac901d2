// The command component loads its runner at the first command. A stop while that load is under
// way must not let the command run afterwards, on a stream, writer and store being stopped: it
// is refused (never acknowledged, so the broker sends it again next session).
import { describe, expect, it } from 'vitest';
import { commandComponent } from '../../src/agent/commands/command-component.js';
import { createCommandInbox } from '../../src/agent/commands/command-inbox.js';
import type { AgentContext, AgentParts } from '../../src/agent/agent-parts.js';
import { silentLogger } from '../../src/ops/logger.js';

describe('command component', () => {
  it('a first command whose runner is still loading when the component stops is refused, not run after the stop', async () => {
    const writes: string[] = [];
    let stopped = false;
    const io = async (sql: string) => {
      await new Promise((r) => setTimeout(r, 2));
      if (stopped) writes.push(sql);
    };
    const db = { get: async (sql: string) => void (await io(sql)), all: async () => [], run: async (sql: string) => (await io(sql), { changes: 1, lastID: 0 }) };
    const writer = { writeOutside() {}, durable: async () => void (await io('reply')) };
    const parts = { db, writer, commandInbox: createCommandInbox() } as unknown as AgentParts;
    const config = { device: { id: 'd1' }, uplink: { topicPrefix: 'outpost/d1' }, commands: { enabled: true, maxTtl: 3_600_000 } };
    const ctx = { config, log: silentLogger(), clock: Date.now, stats: { commandsByStatus: new Map() }, opts: {} } as unknown as AgentContext;
    const c = commandComponent(ctx, parts, { status: async () => ({ ok: true }), replayDeadLetters: async () => ({}) as never });
    await c.start();
    await new Promise((r) => setTimeout(r, 20)); // the start's pruning of old records is done
    const delivered = parts.commandInbox!.deliver('outpost/d1/cmd/ping', Buffer.from(JSON.stringify({ v: 1, id: 'c-1', args: {} })), {});
    const outcome = delivered.then(() => 'acknowledged', (err: Error) => err.message);
    await c.stop(); // the runner's modules cannot have loaded yet: an import is never synchronous
    stopped = true;
    expect(await outcome).toMatch(/not being taken now/);
    await new Promise((r) => setTimeout(r, 50));
    expect(writes, writes.join(" | ")).toEqual([]);
  });
});
