#!/usr/bin/env node
// Builds the embedded FerretDB (v1, SQLite backend) from the Go module proxy
// into .cache/ferretdb/ferretdb, unless a binary built from the same sources
// is already there. Needs Go (https://go.dev) on the PATH.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'scripts', 'ferretdb');
const outDir = path.join(root, '.cache', 'ferretdb');
const bin = path.join(outDir, 'ferretdb');
const stamp = path.join(outDir, 'stamp');

const hash = crypto.createHash('sha256');
for (const f of ['main.go', 'go.mod', 'go.sum']) hash.update(fs.readFileSync(path.join(src, f)));
const digest = hash.digest('hex');

if (fs.existsSync(bin) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) {
  if (!process.argv.includes('--quiet')) console.log(`FerretDB is up to date at ${path.relative(root, bin)}`);
  process.exit(0);
}

fs.mkdirSync(outDir, { recursive: true });
console.log('Building FerretDB v1.24.2 (SQLite backend) with Go; the first build takes a minute or two…');
try {
  execFileSync('go', ['build', '-trimpath', '-o', bin + '.tmp', '.'], {
    cwd: src,
    stdio: 'inherit',
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'local' },
  });
} catch (err) {
  console.error(`FerretDB build failed: ${err.message}. Install Go 1.24+ or set MONGODB_URI to an existing MongoDB.`);
  process.exit(1);
}
fs.renameSync(bin + '.tmp', bin);
fs.writeFileSync(stamp, digest);
console.log(`FerretDB built at ${path.relative(root, bin)}`);
