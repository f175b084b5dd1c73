// How the browser test and the browser bench start Debian's Chromium headless: WebGPU behind its
// flag (SwiftShader is the adapter without a GPU), and nothing that reaches for the network,
// which this machine refuses (connection attempts at every start, many at a time).

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
