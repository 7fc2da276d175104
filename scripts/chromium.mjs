// Debian's chromium as the tests and the docs screenshot drive it (playwright-core, no browser
// download): headless, and with everything that would phone home switched off, because this
// machine's closed network refuses those connections, many at a time.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
