// Child processes that do not outlive their parent: started through util-linux's setpriv, which execs the
// program with a parent-death signal (SIGTERM), so a tertulia process killed with SIGKILL (no chance to stop its
// children) takes them with it instead of leaving them on its ports (coturn) or sending into a meeting (ffmpeg).
// Without setpriv (not Debian), the program is spawned as it is. The child's pid is the program's (setpriv execs).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/** util-linux's setpriv, when installed (Debian: always, util-linux is essential). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return SETPRIV ? spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args], options) : spawn(command, args, options);
}
