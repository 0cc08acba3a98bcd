import * as path from 'path';

/** The repository root (where dialogs/ and locales/ live), from src/dialogs or dist/src/dialogs. */
export const REPO_ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
