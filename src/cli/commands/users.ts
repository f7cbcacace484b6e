// `tertulia users add|remove|passwd NAME` and `tertulia users list`: the accounts of the "accounts" access mode,
// in <dataDir>/users.sqlite. A password is read from the terminal without echo (asked twice), or from the
// first line of standard input when that is not a terminal (scripts: `echo "$PW" | tertulia users add ana`).
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Config } from '../../config/config.ts';
import { UserError, UserStore, usersDbPath } from '../../signal/auth/users.ts';

export const USERS_USAGE = 'usage: tertulia users add NAME | users remove NAME | users passwd NAME | users list';

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
}

function askHidden(prompt: string): Promise<string> {
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  return new Promise((resolve) => {
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

async function readNewPassword(name: string): Promise<string> {
  if (!process.stdin.isTTY) return await readStdinLine();
  const first = await askHidden(`New password for ${name}: `);
  const second = await askHidden('Repeat it: ');
  if (first !== second) throw new UserError('the two passwords differ');
  return first;
}

export async function runUsersCommand(args: string[], config: Config): Promise<number> {
  const [action, name, extra] = args;
  const needsName = action === 'add' || action === 'remove' || action === 'passwd';
  if (!action || !(needsName || action === 'list') || (needsName && !name) || (!needsName && name) || extra !== undefined) {
    process.stderr.write(`tertulia: ${USERS_USAGE}\n`);
    return 2;
  }
  let store: UserStore;
  try {
    store = new UserStore(usersDbPath(config.dataDir));
  } catch (e) {
    process.stderr.write(`tertulia: cannot open ${usersDbPath(config.dataDir)}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    switch (action) {
      case 'list': {
        const users = store.list();
        for (const u of users) process.stdout.write(`${u.username}\t${u.createdAt}\n`);
        if (users.length === 0) process.stderr.write('no users yet; add one with: tertulia users add NAME\n');
        break;
      }
      case 'add':
        if (store.has(name!)) throw new UserError(`user "${name}" already exists`);
        await store.add(name!, await readNewPassword(name!));
        process.stdout.write(`user "${name}" added\n`);
        break;
      case 'passwd':
        if (!store.has(name!)) throw new UserError(`no user "${name}"`);
        await store.setPassword(name!, await readNewPassword(name!));
        process.stdout.write(`password of "${name}" changed\n`);
        break;
      case 'remove':
        store.remove(name!);
        process.stdout.write(`user "${name}" removed\n`);
        break;
    }
    if (config.authMode !== 'accounts' && action !== 'list') {
      // admin accounts sign in at /recordings in every mode; the others only open rooms in accounts mode
      const admin = config.adminAccounts.includes(name!);
      process.stderr.write(
        admin
          ? `note: "${name}" is an admin account (adminAccounts): it signs in at /recordings; opening rooms with accounts needs --auth-mode accounts\n`
          : `note: accounts open rooms only with authMode "accounts" (--auth-mode accounts); with adminAccounts ${name} would also sign in at /recordings in any mode\n`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`tertulia: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    store.close();
  }
}
