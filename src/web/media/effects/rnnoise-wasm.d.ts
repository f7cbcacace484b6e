// @jitsi/rnnoise-wasm ships no types: its synchronous build (the WebAssembly module inlined) makes an Emscripten
// module, typed where it is used (rnnoise-worklet.ts).
declare module '@jitsi/rnnoise-wasm/dist/rnnoise-sync.js' {
  const createRNNWasmModuleSync: () => unknown;
  export default createRNNWasmModuleSync;
}
