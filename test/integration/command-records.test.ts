// A command reply while the store cannot commit: the reply is held in memory and sent live
// (the uplink's memory lane); when the store is back, the command's record is still settled
// (a redelivery is answered from it, not as "interrupted") and the reply's seq is recorded as
// outside the stream's (recovery steps over it). Real SQLite; the commit refused by a hook.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../helpers/agent-config.js';
import { waitFor } from '../helpers/wait.js';
import { openStore } from '../../src/store/open-store.js';
import { openOutbox } from '../../src/store/outbox.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import { findCommand, recordCommand } from '../../src/store/command-records.js';
import { createReplyWriter } from '../../src/agent/commands/command-reply.js';
import { silentLogger } from '../../src/ops/logger.js';
import { upstreamEncoder } from '../../src/wire/render.js';

describe('command records under a store fault', () => {
  for (const how of ['delivered live', 'delivered while out for a commit'] as const) {
    it(`a reply ${how} still settles its command and its outside seq`, async () => {
      const db = await openStore(join(tempDir(), 'outpost.db'));
      const outbox = await openOutbox(db);
      let fail = false;
      const now = Date.parse('2026-11-29T00:00:00Z');
      const writer = createGroupCommit({
        db, outbox, device: 'rec-01', encode: upstreamEncoder('rec-01'), commitIntervalMs: 20, commitReadings: 1_000_000, journal: true,
        snapshot: () => ({ specs: '[]', state: '{}' }), clock: () => now, log: silentLogger(), onQueued: () => undefined,
        hooks: { beforeCommit: async () => { if (fail) throw Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' }); }, afterFull: async () => false },
      });
      expect(await recordCommand(db, { id: 'c-1', name: 'ping', receivedAt: now, keepUntil: now + 86_400_000 })).toBe(true);
      fail = true;
      const replies = createReplyWriter(writer, 'rec-01', () => now, () => undefined);
      await replies.write({ id: 'c-1', name: 'ping', keepUntil: now + 86_400_000 }, { sensor: 'cmd-result', props: null }, { status: 'done', result: { pong: true }, ts: new Date(now).toISOString() }, { record: 'final' });
      await waitFor('held', () => writer.health().heldMessages === 1);
      const [row] = writer.unwritten('reply', 0, 10);
      expect(row!.payload).toContain('"status":"done"');
      if (how === 'delivered live') writer.delivered(row!.seq); // the uplink's PUBACK while held
      fail = false;
      if (how !== 'delivered live') {
        // Delivered while its batch is being committed: the commit must skip the row but not its bookkeeping.
        const committing = writer.flush();
        writer.delivered(row!.seq);
        await committing;
      }
      await waitFor('committed', () => writer.writable() && writer.health().heldBatches === 0 && writer.waiting() === 0, 5_000);
      await writer.flush();
      expect(await findCommand(db, 'c-1')).toMatchObject({ state: 'final', reply: expect.stringContaining('"done"') });
      expect(await db.all('SELECT seq FROM outside_seqs')).toEqual([{ seq: row!.seq }]);
      await writer.close();
      await db.close();
    });
  }
});
