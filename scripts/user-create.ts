/**
 * Creates a console account (mediator or admin). There is no public sign-up.
 *
 *   npm run user:create -- --email claire@asso.fr --name "Claire" --role mediator
 *
 * The password is read from the environment variable DECLIC_NEW_PASSWORD or,
 * when it is unset, typed on the terminal without echo (asked twice), or read
 * from the first line of stdin when stdin is not a terminal. It is never a
 * command-line argument (those end up in shell histories and `ps`) and never
 * printed or logged.
 *
 * The database is the service's: MONGODB_URI, or the embedded FerretDB under
 * DATA_DIR (reached on FERRETDB_PORT if the service is running, started for
 * the occasion otherwise).
 */
import 'dotenv/config';
import * as path from 'path';
import { AccountError, AccountService, ROLES, Role } from '../src/console/accounts';
import { passwordProblem } from '../src/console/password';
import { ConfigError, loadConfig } from '../src/config';
import { Database } from '../src/db/database';
import { EmbeddedFerretDB, canConnect, defaultFerretBin } from '../src/db/embedded';

// Run with tsx (scripts/) or compiled (dist/scripts/, e.g. in the Docker image: node dist/scripts/user-create.js ...).
const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('Usage: npm run user:create -- --email <email> --name <display name> --role <mediator|admin>\n(password from DECLIC_NEW_PASSWORD, or typed without echo)\n');
  process.exit(2);
}

function parseArgs(argv: string[]): { email: string; name: string; role: Role } {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (/pass/i.test(arg)) usage('The password is never a command-line argument: set DECLIC_NEW_PASSWORD or type it when asked.');
    const m = arg.match(/^--(email|name|role)(?:=(.*))?$/);
    if (!m) usage(`Unknown argument ${arg}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) usage(`Missing value for --${m[1]}`);
    out[m[1]] = value;
  }
  if (!out.email) usage('--email is required');
  if (!out.name) usage('--name is required');
  const role = (out.role ?? 'mediator') as Role;
  if (!ROLES.includes(role)) usage('--role must be mediator or admin');
  return { email: out.email, name: out.name, role };
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          cleanup();
          process.stderr.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') {
          cleanup();
          process.stderr.write('\n');
          return reject(new Error('cancelled'));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const cleanup = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

function readStdinLine(): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c: string) => (data += c));
    process.stdin.on('end', () => resolve(data.split(/\r?\n/)[0] ?? ''));
  });
}

async function readPassword(owner: { email: string; name: string }): Promise<string> {
  const fromEnv = process.env.DECLIC_NEW_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) return readStdinLine();
  const first = await promptHidden('Password (not shown): ');
  // Checked before asking it again (the account creation checks it too, also when it comes from the environment).
  const problem = passwordProblem(first, owner);
  if (problem) throw new AccountError('invalid', problem, 'password');
  const second = await promptHidden('Same password again: ');
  if (first !== second) throw new AccountError('invalid', 'the two passwords differ', 'password');
  return first;
}


async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig(process.env);
  const password = await readPassword({ email: args.email, name: args.name });

  let embedded: EmbeddedFerretDB | undefined;
  let uri = config.MONGODB_URI;
  if (!uri) {
    if (config.FERRETDB_PORT && (await canConnect(config.FERRETDB_PORT))) {
      uri = `mongodb://127.0.0.1:${config.FERRETDB_PORT}/`;
    } else {
      embedded = new EmbeddedFerretDB({ bin: config.FERRETDB_BIN ?? defaultFerretBin(ROOT), dataDir: path.resolve(ROOT, config.DATA_DIR), port: config.FERRETDB_PORT });
      uri = await embedded.start();
    }
  }
  const db = await Database.connect(uri, { timeoutMs: config.DB_TIMEOUT_MS, dbName: uri.match(/^mongodb(\+srv)?:\/\/[^/]+\/[^?]+/) ? undefined : 'declic' });
  try {
    const accounts = new AccountService(db.connection);
    await accounts.init();
    const account = await accounts.create({ email: args.email, displayName: args.name, role: args.role, password });
    process.stdout.write(`Created ${account.role} account ${account.email} (${account.displayName}), id ${account._id}\n`);
  } finally {
    await db.close().catch(() => undefined);
    await embedded?.stop();
  }
}

main().catch((err: Error) => {
  const message = err instanceof AccountError || err instanceof ConfigError ? err.message : `Could not create the account: ${err.name}: ${err.message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
