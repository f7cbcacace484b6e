// Runs the `tertulia` command line (./tertulia and the systemd unit of `tertulia install` start Node here): the
// server's JavaScript build (dist/cli/main.js) when it was built from exactly the sources here, the TypeScript
// (src/cli/main.ts, Node strips the types as it loads them) otherwise, or when TERTULIA_TYPESCRIPT=1 (stack
// traces with the sources' own lines). Worker threads and child processes follow the form of the module that
// starts them (src/sibling-module.ts). Plain JavaScript, so choosing costs no type stripper.
import { serverDistFresh } from './server-dist.mjs';

const built = process.env.TERTULIA_TYPESCRIPT !== '1' && serverDistFresh();
const { runCli } = await import(built ? '../dist/cli/main.js' : '../src/cli/main.ts');
runCli(process.argv.slice(2));
