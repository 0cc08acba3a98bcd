/**
 * Account lifecycle from the command line (offboarding a mediator who leaves, a forgotten password, a lost phone):
 *
 *   npm run user:manage -- list
 *   npm run user:manage -- disable --email claire@asso.fr      (her sessions end at once; she can no longer sign in)
 *   npm run user:manage -- enable --email claire@asso.fr
 *   npm run user:manage -- reset-password --email claire@asso.fr   (new password as for user:create; her sessions end)
 *
 * The same actions exist in the console API for admins (PATCH /api/console/accounts/{id}, POST …/{id}/password).
 * The last active admin cannot be disabled. The database is the service's (see scripts/lib/serviceDatabase.ts).
 */
import 'dotenv/config';
import * as path from 'path';
import { AccountError, AccountService } from '../src/console/accounts';
import { SessionStore } from '../src/console/sessions';
import { ConfigError, loadConfig } from '../src/config';
import { openServiceDatabase } from './lib/serviceDatabase';
import { readPassword } from './lib/readPassword';

const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
const COMMANDS = ['list', 'disable', 'enable', 'reset-password'] as const;
type Command = (typeof COMMANDS)[number];

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('Usage: npm run user:manage -- <list|disable|enable|reset-password> [--email <email>]\n');
  process.exit(2);
}

function parseArgs(argv: string[]): { command: Command; email?: string } {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) usage(command ? `Unknown command ${command}` : undefined);
  let email: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (/pass/i.test(rest[i]) && rest[i] !== 'reset-password') usage('The password is never a command-line argument: set DECLIC_NEW_PASSWORD or type it when asked.');
    const m = rest[i].match(/^--email(?:=(.*))?$/);
    if (!m) usage(`Unknown argument ${rest[i]}`);
    email = m[1] ?? rest[++i];
  }
  if (command !== 'list' && !email) usage('--email is required');
  return { command: command as Command, email };
}

async function main(): Promise<void> {
  const { command, email } = parseArgs(process.argv.slice(2));
  const config = loadConfig(process.env);
  const { db, close } = await openServiceDatabase(config, ROOT);
  try {
    const accounts = new AccountService(db.connection);
    const sessions = new SessionStore(db.connection, { idleMs: config.CONSOLE_SESSION_IDLE_SECONDS * 1000, absoluteMs: config.CONSOLE_SESSION_MAX_SECONDS * 1000 });
    await Promise.all([accounts.init(), sessions.init()]);
    if (command === 'list') {
      for (const a of await accounts.list()) {
        process.stdout.write(`${a.email}\t${a.role}\t${a.disabled ? 'disabled' : 'active'}\t${a.lastLoginAt ? new Date(a.lastLoginAt).toISOString() : 'never signed in'}\n`);
      }
      return;
    }
    const account = await accounts.findByEmail(email as string);
    if (!account) throw new AccountError('not_found', `No account with the email ${email}`);
    if (command === 'reset-password') {
      const password = await readPassword({ email: account.email, name: account.displayName });
      await accounts.setPassword(account._id, password);
      await sessions.destroyForAccount(account._id);
      process.stdout.write(`New password set for ${account.email}; their sessions have ended\n`);
      return;
    }
    await accounts.setDisabled(account._id, command === 'disable');
    if (command === 'disable') await sessions.destroyForAccount(account._id);
    process.stdout.write(command === 'disable' ? `Disabled ${account.email}; their sessions have ended\n` : `Enabled ${account.email}\n`);
  } finally {
    await close();
  }
}

main().catch((err: Error) => {
  const message = err instanceof AccountError || err instanceof ConfigError ? err.message : `Failed: ${err.name}: ${err.message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
