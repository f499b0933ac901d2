// One agent per database: two would assign the same seqs and wedge each other's commits. A lock
// file beside the database (`<path>.lock`, created exclusively) is taken at start. It names its
// owner by pid, boot id and the process's start time (Linux /proc), so one left behind by a
// SIGKILL or a power cut is recognised as stale and taken over even when, after a reboot, its
// pid now belongs to another process. Readers (`outpost status`, `deadletter list`) do not take it.
import { openSync, writeSync, fsyncSync, closeSync, readFileSync, unlinkSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StoreLock {
  release(): void;
}

interface Owner {
  pid: number;
  boot: string;
  start: string;
}

const readOr = (file: string, fallback: string) => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
};
const bootId = () => readOr('/proc/sys/kernel/random/boot_id', '');
/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or ''. */
const startTime = (pid: number) => readOr(`/proc/${pid}/stat`, '').split(') ')[1]?.split(' ')[19] ?? '';

const mtimeMs = (file: string) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};

function running(o: Owner): boolean {
  if (o.boot !== bootId()) return false; // written before the last boot
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return o.start === '' || o.start === startTime(o.pid); // the same process, not a reused pid
}

export function lockStore(dbPath: string): StoreLock {
  const file = `${dbPath}.lock`;
  mkdirSync(dirname(dbPath), { recursive: true }); // a first start: the directory is made here
  const me: Owner = { pid: process.pid, boot: bootId(), start: startTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${JSON.stringify(me)}\n`);
      // On the storage before we go on: after a power cut an unsynced lock file is left empty
      // (its name kept, its bytes not), which the next start would take for one being written.
      fsyncSync(fd);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if ((JSON.parse(readOr(file, '{}')) as Partial<Owner>).pid === process.pid) unlinkSync(file);
          } catch {
            /* unreadable or gone: not ours to remove */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: Owner | undefined;
      try {
        owner = JSON.parse(readOr(file, '')) as Owner;
      } catch {
        // Unreadable: another agent between creating it and writing it (microseconds), or a torn
        // write long ago. Only an old one is stale.
        if (Date.now() - mtimeMs(file) < 2_000) throw new Error(`another outpost is starting on ${dbPath}: stop it first, or give this one another storage.path`);
        owner = undefined;
      }
      if (owner && owner.pid === process.pid && running(owner)) throw new Error(`this process already runs an agent on ${dbPath}`);
      if (owner && running(owner)) throw new Error(`another outpost (pid ${owner.pid}) is running on ${dbPath}: stop it first, or give this one another storage.path`);
      try {
        unlinkSync(file); // stale: its owner is gone
      } catch {
        /* someone else took it over first: try again */
      }
    }
  }
  throw new Error(`cannot lock ${dbPath}: its lock file keeps reappearing`);
}
