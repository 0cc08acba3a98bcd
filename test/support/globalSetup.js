// Starts one embedded FerretDB (SQLite backend) for the whole test run, unless
// MONGODB_URI points at an existing MongoDB. Each test file uses its own database.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

module.exports = async function globalSetup() {
  // The browser tests need Debian's Chromium: without it the run stops here, with one line saying how to get it.
  const chromium = '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) {
    throw new Error(`${chromium} is missing: the browser tests need Debian's Chromium (apt-get update && apt-get install -y chromium).`);
  }
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  execFileSync(process.execPath, [path.join(root, 'scripts', 'ferretdb-build.js'), '--quiet'], { stdio: 'inherit' });
  const bin = path.join(root, '.cache', 'ferretdb', 'ferretdb');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declic-test-ferretdb-'));
  const port = await freePort();
  const child = spawn(bin, ['-listen', `127.0.0.1:${port}`, '-data', dataDir], { stdio: 'ignore', detached: false });
  const deadline = Date.now() + 20000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited at start with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('FerretDB did not start within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  globalThis.__FERRETDB__ = { child, dataDir };
  process.env.TEST_MONGODB_URI = `mongodb://127.0.0.1:${port}/`;
  process.env.TEST_FERRETDB_BIN = bin;
};
