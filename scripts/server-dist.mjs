// The server's JavaScript build: src/ minus src/web (which vite builds into dist/web) compiled by the project's
// TypeScript (tsconfig.build.json: types erased, `.ts` imports rewritten to `.js`, no type check) into dist/,
// mirroring src/ (src/bridge/index.ts -> dist/bridge/index.js), so every path a module finds relative to itself
// (../../native/build, ../../dist/web, ../../package.json) is the same from both. Files under src/ that are not
// TypeScript (the recorder's Python) are copied beside the JavaScript.
//
// Running the build saves the process Node's type stripper (~36 MiB; docs/BENCHMARKS.md "The server as
// JavaScript"). A build is used only when it was made from exactly the sources here: dist/.server-build.json holds
// the size, modification and change times and inode of every input (the sources, the tsconfigs, the compiler's
// package.json) as they were when the build started, and a hash of their paths and contents. `serverDistFresh` is
// true when every input still has what was recorded (a few ms) or, when any differs or a file came or went, when their contents
// hash the same (reading ~2 MB: 30–220 ms on this shared 2-core machine); scripts/launch.mjs runs the TypeScript otherwise.
//
// Plain JavaScript (not TypeScript) on purpose: scripts/launch.mjs imports it before choosing which form to run.
//   node scripts/server-dist.mjs          builds when the build is missing or stale (scripts/bootstrap.sh, under flock)
//   node scripts/server-dist.mjs --force  builds anyway
//   node scripts/server-dist.mjs --check  exit 0 when fresh, 1 when not
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout (every function takes another, for tests). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const where = (root) => {
  const dist = path.join(root, 'dist');
  return { src: path.join(root, 'src'), dist, stamp: path.join(dist, '.server-build.json') };
};
/** Besides src/ and the compiler's version: what decides the output. */
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];
/** Folders never part of the build: src/web (vite builds it) at the top, these at any depth. */
const SKIP_DIRS = new Set(['__pycache__', 'node_modules']);

/** Every file of the server's sources, relative to src/, sorted. */
function sourceFiles(src) {
  const out = [];
  const walk = (rel) => {
    for (const e of readdirSync(path.join(src, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && r !== 'web') walk(r);
      } else if (e.isFile() && !e.name.endsWith('.pyc')) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** Every file the build's output depends on besides the sources (the compiler's own version among them). */
const BUILD_INPUTS = [...CONFIG_FILES, 'node_modules/typescript/package.json'];

/** Size, modification and change time, and inode of each input (relative to root): the cheap check, a few ms. */
function statsOf(root, files) {
  const out = {};
  for (const f of [...BUILD_INPUTS, ...files.map((f) => `src/${f}`)]) {
    const st = statSync(path.join(root, f));
    // the change time and inode too: a copy that keeps modification times (cp -p, rsync -a) cannot keep them
    out[f] = [st.size, st.mtimeMs, st.ctimeMs, st.ino];
  }
  return out;
}

function sameStats(a, b) {
  if (a === null || typeof a !== 'object') return false;
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  return keys.every((k) => Array.isArray(a[k]) && a[k].length === b[k].length && b[k].every((v, i) => a[k][i] === v));
}

/** A hash of the sources' paths and contents and of the build's settings. */
function fingerprint(root, files) {
  const h = createHash('sha256');
  for (const f of BUILD_INPUTS) h.update(`${f}\0`).update(readFileSync(path.join(root, f))).update('\0');
  for (const f of files) h.update(`src/${f}\0`).update(readFileSync(path.join(root, 'src', f))).update('\0');
  return h.digest('hex');
}

function readStamp(stampFile) {
  try {
    const s = JSON.parse(readFileSync(stampFile, 'utf8'));
    return typeof s?.fingerprint === 'string' && Array.isArray(s.files) ? s : null;
  } catch {
    return null;
  }
}

/** True when dist/ holds a build of exactly the sources here (never throws: false when anything is missing). */
export function serverDistFresh(root = ROOT) {
  try {
    const { src, dist, stamp: stampFile } = where(root);
    const stamp = readStamp(stampFile);
    if (stamp === null || !existsSync(path.join(dist, 'cli', 'main.js'))) return false;
    const files = sourceFiles(src);
    // every input as it was at the build's start (same size, same modification time): fresh without reading them;
    // otherwise (a file touched, added, removed) their contents decide
    return sameStats(stamp.inputs, statsOf(root, files)) || stamp.fingerprint === fingerprint(root, files);
  } catch {
    return false;
  }
}

/** The output path of a source file (relative to dist/). */
const outputOf = (f) => (f.endsWith('.ts') ? f.slice(0, -3) + '.js' : f);

/**
 * Compiles into a folder of its own under dist/ (two builds at once never share one), then moves each file into place (one rename each, so a process loading a
 * module meanwhile reads a whole file) and removes what the last build made that this one did not. The stamp is
 * removed first and written last, with the hash of the sources as they were when the build started: a source
 * changed during the build leaves the build stale. Returns the milliseconds it took; throws when tsc fails.
 */
export function buildServerDist(root = ROOT) {
  const started = performance.now();
  const { src: SRC, dist: DIST, stamp: STAMP } = where(root);
  const files = sourceFiles(SRC);
  const inputs = statsOf(root, files);
  const hash = fingerprint(root, files);
  mkdirSync(DIST, { recursive: true });
  const TMP = mkdtempSync(path.join(DIST, '.server-build-'));
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', TMP], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) {
    rmSync(TMP, { recursive: true, force: true });
    throw new Error(`tsc failed (${tsc.error?.message ?? `exit ${tsc.status}`}):\n${tsc.stdout ?? ''}${tsc.stderr ?? ''}`);
  }
  for (const f of files) {
    if (!f.endsWith('.ts')) {
      mkdirSync(path.dirname(path.join(TMP, f)), { recursive: true });
      copyFileSync(path.join(SRC, f), path.join(TMP, f));
    }
  }
  const outputs = files.map(outputOf);
  for (const o of outputs) {
    if (!existsSync(path.join(TMP, o))) {
      rmSync(TMP, { recursive: true, force: true });
      throw new Error(`the build made no ${o}`);
    }
  }
  const previous = readStamp(STAMP);
  rmSync(STAMP, { force: true });
  for (const o of outputs) {
    mkdirSync(path.dirname(path.join(DIST, o)), { recursive: true });
    renameSync(path.join(TMP, o), path.join(DIST, o));
  }
  const now = new Set(outputs);
  for (const o of previous?.files ?? []) {
    // only names a build made (a stamp is ours, but never trust it to point outside dist/)
    if (typeof o === 'string' && !now.has(o) && !o.split('/').includes('..')) rmSync(path.join(DIST, o), { force: true });
  }
  rmSync(TMP, { recursive: true, force: true });
  const ms = Math.round(performance.now() - started);
  writeFileSync(`${STAMP}.${process.pid}.tmp`, JSON.stringify({ fingerprint: hash, builtAt: new Date().toISOString(), ms, files: outputs, inputs }) + '\n');
  renameSync(`${STAMP}.${process.pid}.tmp`, STAMP);
  return ms;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === '--check') process.exit(serverDistFresh() ? 0 : 1);
  if (arg !== '--force' && serverDistFresh()) process.exit(0);
  try {
    const ms = buildServerDist();
    process.stderr.write(`[tertulia] built the server's JavaScript into dist/ in ${(ms / 1000).toFixed(1)} s\n`);
  } catch (e) {
    process.stderr.write(`[tertulia] the server's JavaScript was not built (the TypeScript runs instead): ${e.message}\n`);
    process.exit(1);
  }
}
