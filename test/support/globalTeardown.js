'use strict';
const fs = require('fs');

module.exports = async function globalTeardown() {
  const state = globalThis.__FERRETDB__;
  if (!state) return;
  await new Promise((resolve) => {
    if (state.child.exitCode !== null) return resolve();
    state.child.once('exit', resolve);
    state.child.kill('SIGTERM');
    setTimeout(() => state.child.kill('SIGKILL'), 5000).unref();
  });
  fs.rmSync(state.dataDir, { recursive: true, force: true });
};
