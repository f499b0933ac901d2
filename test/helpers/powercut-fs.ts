// The power-cut file system (test/powercut/powercut-fs.py) from a test: mount, cut (drop every
// write not yet fsync'ed, as a power cut drops the page cache), unmount, mount again.
// Needs /dev/fuse, fusermount3 (Debian fuse3) and python3-fusepy under /usr/bin/python3; what
// is missing is named by `powerCutMissing()` so a test can say it loudly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'test/powercut/powercut-fs.py';

/** What this machine lacks for the power-cut test, or undefined when it has everything. */
export function powerCutMissing(): string | undefined {
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing (a container without FUSE?)';
  if (spawnSync('fusermount3', ['-V']).error) return 'fusermount3 is missing (apt-get install fuse3)';
  if (spawnSync(PYTHON, ['-c', 'import fusepy']).status !== 0) return `${PYTHON} cannot import fusepy (apt-get install python3-fusepy)`;
  return undefined;
}

export interface PowerCutFs {
  /** Drops every write not yet fsync'ed; resolves with the FS's report ("dropped N bytes in M files ..."). */
  cut(): Promise<string>;
  /** Unmounts (what was not fsync'ed is discarded) and mounts again on the same backing directory. */
  remount(): Promise<void>;
  unmount(): Promise<void>;
}

export async function mountPowerCutFs(backing: string, mountpoint: string): Promise<PowerCutFs> {
  let child: ChildProcess;
  let out = '';
  const waitLine = (re: RegExp, from: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out.slice(from));
        if (m) {
          child.stdout!.off('data', check);
          resolve(m[0]);
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`powercut-fs exited (${code}) before "${re.source}": ${out.slice(-500)}`)));
      check();
    });
  const mount = async () => {
    out = '';
    child = spawn(PYTHON, [SCRIPT, backing, mountpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitLine(/^ready$/m, 0);
  };
  const unmount = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    spawnSync('fusermount3', ['-u', mountpoint]);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      spawnSync('fusermount3', ['-uz', mountpoint]);
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  await mount();
  return {
    async cut() {
      const from = out.length;
      const report = waitLine(/^dropped .*$/m, from);
      child.kill('SIGUSR1');
      return report;
    },
    async remount() {
      await unmount();
      await mount();
    },
    unmount,
  };
}
