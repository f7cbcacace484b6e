// The server's JavaScript build (scripts/server-dist.mjs) on a copy of the sources with the project's real
// TypeScript: it mirrors src/ (minus src/web) into dist/ with the non-TypeScript files beside, it is fresh only
// for exactly the sources it was built from (an edit, a new file, a removed file each make it stale; a file
// touched but unchanged does not), a rebuild removes what a removed source had made, and a failed build is never
// taken as fresh. scripts/launch.mjs runs the build when fresh and the sources otherwise; siblingModuleUrl picks
// the caller's own form for workers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServerDist, serverDistFresh } from '../../scripts/server-dist.mjs';
import { siblingModuleUrl } from '../../src/sibling-module.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A copy of what the build reads (src/ without src/web, the tsconfigs, the scripts), sharing node_modules. */
function copyCheckout(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-dist-'));
  cpSync(path.join(repo, 'src'), path.join(dir, 'src'), { recursive: true, filter: (p) => !p.startsWith(path.join(repo, 'src', 'web')) });
  mkdirSync(path.join(dir, 'scripts'));
  for (const f of ['scripts/server-dist.mjs', 'scripts/launch.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) cpSync(path.join(repo, f), path.join(dir, f));
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function launch(dir: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(dir, 'scripts/launch.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TERTULIA_CONFIG: '', ...env },
  });
}

describe('the server build', () => {
  let dir: string;

  before(() => {
    dir = copyCheckout();
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('mirrors src/ into dist/, copies what is not TypeScript, and is fresh for exactly those sources', () => {
    assert.equal(serverDistFresh(dir), false, 'no build yet');
    const ms = buildServerDist(dir);
    assert.ok(ms > 0);
    assert.equal(serverDistFresh(dir), true);
    for (const f of ['cli/main.js', 'bridge/workers/media-worker.js', 'sip/media/media-worker.js', 'loadtest/driver-process.js', 'sibling-module.js']) {
      assert.ok(existsSync(path.join(dir, 'dist', f)), f);
    }
    assert.ok(!existsSync(path.join(dir, 'dist/web')), 'src/web is vite\'s');
    assert.equal(readFileSync(path.join(dir, 'dist/recorder/compose/compose.py'), 'utf8'), readFileSync(path.join(dir, 'src/recorder/compose/compose.py'), 'utf8'));
    const main = readFileSync(path.join(dir, 'dist/cli/main.js'), 'utf8');
    assert.match(main, /from '\.\.\/config\/config\.js'/, 'relative imports point at .js');
    assert.doesNotMatch(main, /\.ts'/, 'no import of a .ts file is left');
    assert.doesNotMatch(main, /: Promise<number>/, 'types are erased');
    assert.ok(!readdirSync(path.join(dir, 'dist')).some((n) => n.startsWith('.server-build-')), 'the staging folder is gone');

    // the same command line from both forms (the build, and the sources when asked for)
    const built = launch(dir, ['config']);
    assert.equal(built.status, 0, built.stderr);
    const fromSources = launch(dir, ['config'], { TERTULIA_TYPESCRIPT: '1' });
    assert.equal(fromSources.status, 0, fromSources.stderr);
    assert.deepEqual(JSON.parse(built.stdout), JSON.parse(fromSources.stdout));
  });

  test('an edit, a new file and a removed file each make it stale; a rebuild removes what a removed source made', () => {
    if (!serverDistFresh(dir)) buildServerDist(dir);
    // touched but the same: the contents decide
    utimesSync(path.join(dir, 'src/log.ts'), new Date(), new Date(Date.now() + 5000));
    assert.equal(serverDistFresh(dir), true, 'a touched source with the same content');
    appendFileSync(path.join(dir, 'src/log.ts'), '\n// edited\n');
    assert.equal(serverDistFresh(dir), false, 'an edited source');
    buildServerDist(dir);
    assert.equal(serverDistFresh(dir), true);
    assert.match(readFileSync(path.join(dir, 'dist/log.js'), 'utf8'), /\/\/ edited/);

    writeFileSync(path.join(dir, 'src/bus/extra-module.ts'), 'export const extra: number = 1;\n');
    assert.equal(serverDistFresh(dir), false, 'a new source');
    buildServerDist(dir);
    assert.ok(existsSync(path.join(dir, 'dist/bus/extra-module.js')));

    unlinkSync(path.join(dir, 'src/bus/extra-module.ts'));
    assert.equal(serverDistFresh(dir), false, 'a removed source');
    buildServerDist(dir);
    assert.equal(serverDistFresh(dir), true);
    assert.ok(!existsSync(path.join(dir, 'dist/bus/extra-module.js')), 'its output went with it');

    writeFileSync(path.join(dir, 'src/recorder/compose/layout.py'), readFileSync(path.join(dir, 'src/recorder/compose/layout.py'), 'utf8') + '\n# edited\n');
    assert.equal(serverDistFresh(dir), false, 'an edited asset');
    buildServerDist(dir);
    assert.match(readFileSync(path.join(dir, 'dist/recorder/compose/layout.py'), 'utf8'), /# edited/);

    appendFileSync(path.join(dir, 'tsconfig.build.json'), '\n');
    assert.equal(serverDistFresh(dir), false, 'the build settings changed');
  });

  test('a failed build is not fresh, and the launcher then runs the sources', () => {
    if (!serverDistFresh(dir)) buildServerDist(dir);
    writeFileSync(path.join(dir, 'src/bus/broken.ts'), 'export const = ;\n');
    assert.throws(() => buildServerDist(dir), /tsc failed/);
    assert.equal(serverDistFresh(dir), false);
    unlinkSync(path.join(dir, 'src/bus/broken.ts'));
    // stale: an edit the build has not seen runs, from the sources
    appendFileSync(path.join(dir, 'src/cli/version.ts'), "\nprocess.stderr.write('from the sources\\n');\n");
    assert.equal(serverDistFresh(dir), false);
    const r = launch(dir, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `tertulia ${JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version}`);
    assert.match(r.stderr, /from the sources/);
    // built again, the build runs it
    buildServerDist(dir);
    assert.match(launch(dir, ['--version']).stderr, /from the sources/);
    assert.match(readFileSync(path.join(dir, 'dist/cli/version.js'), 'utf8'), /from the sources/);
  });
});

describe('siblingModuleUrl', () => {
  test("gives the caller's own extension", () => {
    assert.equal(siblingModuleUrl('./media-worker', 'file:///x/src/bridge/workers/pool.ts').href, 'file:///x/src/bridge/workers/media-worker.ts');
    assert.equal(siblingModuleUrl('./media-worker', 'file:///x/dist/bridge/workers/pool.js').href, 'file:///x/dist/bridge/workers/media-worker.js');
    assert.equal(siblingModuleUrl('../loadtest/driver-process', 'file:///x/dist/bench/a.js').href, 'file:///x/dist/loadtest/driver-process.js');
  });

  test('refuses a name with an extension or not relative', () => {
    assert.throws(() => siblingModuleUrl('./media-worker.ts', 'file:///x/a.ts'), /without an extension/);
    assert.throws(() => siblingModuleUrl('media-worker', 'file:///x/a.ts'), /relative/);
  });
});
