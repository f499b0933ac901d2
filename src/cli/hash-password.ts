// `outpost hash-password`: reads a password (from a pipe, or typed without echo) and prints the
// scrypt hash to put in broker.auth.users[].password, so the config holds no password.
import { hashPassword } from '../ops/password-hash.js';
import type { Io } from './io.js';

export async function hashPasswordCommand(io: Io, input: NodeJS.ReadStream = process.stdin): Promise<number> {
  const password = input.isTTY ? await promptHidden(input) : await readAll(input);
  if (!password) {
    io.err('outpost hash-password: no password given (type it, or pipe it in: printf %s "$PW" | outpost hash-password)');
    return 2;
  }
  io.out(await hashPassword(password));
  return 0;
}

async function readAll(input: NodeJS.ReadStream): Promise<string> {
  let text = '';
  for await (const chunk of input) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

function promptHidden(input: NodeJS.ReadStream): Promise<string> {
  process.stderr.write('password: ');
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(text);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        text = ch === '\u007f' ? text.slice(0, -1) : text + ch;
      }
    };
    input.on('data', onData);
  });
}
