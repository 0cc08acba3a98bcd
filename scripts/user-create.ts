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
import { ConfigError, loadConfig } from '../src/config';
import { openServiceDatabase } from './lib/serviceDatabase';
import { readPassword } from './lib/readPassword';

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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig(process.env);
  const password = await readPassword({ email: args.email, name: args.name });

  const { db, close } = await openServiceDatabase(config, ROOT);
  try {
    const accounts = new AccountService(db.connection);
    await accounts.init();
    const account = await accounts.create({ email: args.email, displayName: args.name, role: args.role, password });
    process.stdout.write(`Created ${account.role} account ${account.email} (${account.displayName}), id ${account._id}\n`);
  } finally {
    await close();
  }
}

main().catch((err: Error) => {
  const message = err instanceof AccountError || err instanceof ConfigError ? err.message : `Could not create the account: ${err.name}: ${err.message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
