// A real PostgreSQL for tests: a temporary cluster (Debian's postgresql package: initdb and
// pg_ctl) in a temporary folder, on a free loopback port, run as an unprivileged user (the
// postgres user when the tests run as root), removed at stop. Never a mock: a machine without
// PostgreSQL fails the tests that need it, saying so (.ci/run installs it).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

function binary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, name))) return join(dir, name);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort().reverse()) if (existsSync(join(root, v, 'bin', name))) return join(root, v, 'bin', name);
  }
  throw new Error(`PostgreSQL is not installed (no ${name} on PATH or in /usr/lib/postgresql/*/bin): these tests need a real PostgreSQL; install Debian's postgresql package (.ci/run does)`);
}

export interface Postgres {
  /** A fresh database on the cluster, by URL. */
  database(name: string): Promise<string>;
  url: string;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  const initdb = binary('initdb');
  const pgCtl = binary('pg_ctl');
  const dir = mkdtempSync(join(tmpdir(), 'outpost-pg-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) => (root ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' }));
  if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  as(initdb, ['-D', data, '-A', 'trust', '-U', 'outpost', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  as(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
  const url = `postgres://outpost@127.0.0.1:${port}/postgres`;
  return {
    url,
    async database(name) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      await c.end();
      return `postgres://outpost@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    async stop() {
      try {
        as(pgCtl, ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** One cluster for a test file: started before its tests, stopped after; `get()` inside a test. */
export function usePostgres(hooks: { beforeAll: (fn: () => Promise<void>, timeout?: number) => void; afterAll: (fn: () => Promise<void>) => void }): { get(): Postgres } {
  let server: Postgres | undefined;
  hooks.beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  hooks.afterAll(async () => {
    await server?.stop();
  });
  return { get: () => server! };
}
