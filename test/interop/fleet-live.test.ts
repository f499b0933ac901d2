// The live view on PostgreSQL: changes published by one store reach every subscriber (LISTEN/
// NOTIFY), in chunks under PostgreSQL's payload limit, and a subscriber whose connection the
// server dropped listens again by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openFleetStore } from '../../src/fleet/fleet-store.js';
import { usePostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const cluster = usePostgres({ beforeAll, afterAll });

describe('fleet changes on PostgreSQL', () => {
  it('reach every instance, large batches included, and survive a dropped connection', async () => {
    const url = await cluster.get().database('live');
    const a = await openFleetStore({ type: 'postgres', url, retention: 0 });
    const b = await openFleetStore({ type: 'postgres', url, retention: 0 });
    const heard: Array<Record<string, unknown>> = [];
    const unsubscribe = await b.changes.subscribe((c) => heard.push(c));
    try {
      const batch = Array.from({ length: 2000 }, (_, i) => ({ kind: 'summary', device: `dev-${i}`, sensor: 'greenhouse/air/temperature' }));
      await a.changes.publish(batch); // about 130 KB: several NOTIFYs
      await waitFor('every change heard', () => heard.length === 2000, 10_000);
      expect(heard.map((c) => c.device)).toEqual(batch.map((c) => c.device));
      // The server drops the listening connection: it listens again.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
      await admin.end();
      await waitFor('listening again', async () => {
        await a.changes.publish([{ kind: 'ping' }]);
        return heard.some((c) => c.kind === 'ping');
      }, 15_000);
    } finally {
      await unsubscribe();
      await a.close();
      await b.close();
    }
  }, 60_000);
});
