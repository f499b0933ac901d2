// A file system that can be made full or read-only under a running agent.
// - full: a small tmpfs, filled up, where this machine lets us mount one (root, CAP_SYS_ADMIN);
// - read-only: Linux refuses to remount a file system read-only while a file on it is open for
//   writing (EBUSY); only the kernel does that, on I/O errors (errors=remount-ro). So the
//   read-only case, and the full case where mounting is not allowed, inject SQLite's own error
//   on the agent's database connection: every write fails as it would on such a file system.
// Which one ran is reported by the test.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Executor } from '../../src/store/sqlite.js';
import { tempDir } from './agent-config.js';

export interface DiskFault {
  mode: 'tmpfs' | 'injected';
  dir: string;
  /** Pass to createAgent({ wrapDatabase }) (a no-op on tmpfs). */
  wrap: (db: Database) => Database;
  start(): void;
  end(): void;
  cleanup(): Promise<void>;
}

export function diskFault(kind: 'full' | 'read-only', sizeBytes = 4 * 1024 * 1024): DiskFault {
  const dir = tempDir('outpost-fault-');
  let mounted = false;
  if (kind === 'full') {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'ignore' });
      mounted = true;
    } catch {
      mounted = false;
    }
  }
  if (mounted) {
    const filler = join(dir, 'filler');
    return {
      mode: 'tmpfs',
      dir,
      wrap: (db) => db,
      start() {
        writeFileSync(filler, '');
        for (const block of [Buffer.alloc(64 * 1024, 1), Buffer.alloc(512, 1)]) {
          try {
            for (;;) appendFileSync(filler, block);
          } catch {
            // ENOSPC: full (then the last small blocks too)
          }
        }
      },
      end() {
        rmSync(filler, { force: true });
      },
      async cleanup() {
        try {
          execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
        } catch {
          // already gone
        }
      },
    };
  }
  let failing = false;
  const error = () =>
    kind === 'full'
      ? Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' })
      : Object.assign(new Error('SQLITE_READONLY: attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
  const writes = /^\s*(INSERT|UPDATE|DELETE|REPLACE|PRAGMA incremental_vacuum|BEGIN)/i;
  const guard = (ex: Executor): Executor => ({
    run: (sql, p) => (failing && writes.test(sql) ? Promise.reject(error()) : ex.run(sql, p)),
    runPrepared: (sql, p) => (failing && writes.test(sql) ? Promise.reject(error()) : ex.runPrepared(sql, p)),
    all: (sql, p) => (failing && writes.test(sql) ? Promise.reject(error()) : ex.all(sql, p)),
    get: (sql, p) => ex.get(sql, p),
    exec: (sql) => (failing && writes.test(sql) ? Promise.reject(error()) : ex.exec(sql)),
  });
  return {
    mode: 'injected',
    dir,
    wrap: (db) => ({
      ...guard(db),
      path: db.path,
      transaction: (fn) => (failing ? Promise.reject(error()) : db.transaction((tx) => fn(guard(tx)))),
      close: () => db.close(),
    }),
    start: () => void (failing = true),
    end: () => void (failing = false),
    cleanup: async () => undefined,
  };
}
