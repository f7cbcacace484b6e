// Where a module beside the caller lives, in the form the caller itself runs as: `.ts` when the caller was
// loaded from src/ (Node strips the types), `.js` when it was loaded from the server's build in dist/
// (scripts/server-dist.mjs). Worker threads and child processes on our own sources start from here, so a
// server running the build never loads TypeScript (each thread that does pays for a type stripper), and one
// running the sources never mixes in a build of other sources.

/** `name`: a relative path without its extension ('./media-worker'); `callerUrl`: the caller's import.meta.url. */
export function siblingModuleUrl(name: string, callerUrl: string): URL {
  if (!/^\.\.?\//.test(name) || /\.[cm]?[jt]sx?$/.test(name)) {
    throw new Error(`siblingModuleUrl: '${name}' must be a relative path without an extension`);
  }
  return new URL(name + (new URL(callerUrl).pathname.endsWith('.js') ? '.js' : '.ts'), callerUrl);
}
