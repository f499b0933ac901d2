// systemd's notify protocol (sd_notify(3)): datagrams like "READY=1" to the unix socket in
// $NOTIFY_SOCKET. Node has no unix datagram sockets, so this uses unix-dgram (a small native
// addon built on install, as sqlite3 and onoff are; maintained, and the binding winston-syslog
// uses). Without $NOTIFY_SOCKET (not under systemd, or Type=simple) nothing is sent.
import type { Logger } from './logger.js';

export interface SdNotify {
  send(state: string): void;
  close(): void;
}

export async function connectSdNotify(env: NodeJS.ProcessEnv, log: Logger): Promise<SdNotify | undefined> {
  const path = env.NOTIFY_SOCKET;
  if (!path) return undefined;
  // An abstract socket ("@name") is named with a leading NUL byte.
  const address = path.startsWith('@') ? `\0${path.slice(1)}` : path;
  let createSocket: typeof import('unix-dgram').createSocket;
  try {
    ({ createSocket } = await import('unix-dgram'));
  } catch (err) {
    log.error({ err: (err as Error).message }, 'NOTIFY_SOCKET is set but unix-dgram is not installed: systemd will not hear READY=1 (reinstall with npm ci)');
    return undefined;
  }
  const socket = createSocket('unix_dgram');
  socket.on('error', () => undefined); // reported through send's callback
  let warned = false;
  return {
    send(state) {
      const buf = Buffer.from(state);
      try {
        socket.send(buf, 0, buf.length, address, (err) => {
          if (err && !warned) {
            warned = true;
            log.warn({ err: err.message, socket: path }, 'sd_notify failed');
          }
        });
      } catch (err) {
        if (!warned) log.warn({ err: (err as Error).message, socket: path }, 'sd_notify failed');
        warned = true;
      }
    },
    close: () => socket.close(),
  };
}

/**
 * The watchdog: every half of $WATCHDOG_USEC, WATCHDOG=1 only if `progressing()` says the
 * pipeline is moving. A stuck event loop sends nothing (the timer cannot run); a stalled
 * pipeline (ticks stopped, a commit that never returns) withholds it, and systemd restarts us.
 */
export function startWatchdog(o: { notify: SdNotify; env: NodeJS.ProcessEnv; progressing: () => boolean; log: Logger }): (() => void) | undefined {
  const usec = Number(o.env.WATCHDOG_USEC);
  if (!(usec > 0) || (o.env.WATCHDOG_PID && Number(o.env.WATCHDOG_PID) !== process.pid)) return undefined;
  let stalled = false;
  const timer = setInterval(() => {
    if (o.progressing()) {
      if (stalled) o.log.info('pipeline progressing again: systemd watchdog fed');
      stalled = false;
      o.notify.send('WATCHDOG=1');
    } else if (!stalled) {
      stalled = true;
      o.log.error({ watchdogS: usec / 1e6 }, 'pipeline not progressing: withholding the systemd watchdog (systemd restarts the service if this lasts)');
    }
  }, Math.max(50, usec / 2000));
  return () => clearInterval(timer);
}
