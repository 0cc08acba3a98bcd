/**
 * Reads a new password for a command-line tool: from DECLIC_NEW_PASSWORD, typed on the terminal without echo
 * (asked twice), or the first line of stdin when it is not a terminal. Never a command-line argument, never printed.
 */
import { AccountError } from '../../src/console/accounts';
import { passwordProblem } from '../../src/console/password';

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

export async function readPassword(owner: { email: string; name: string }): Promise<string> {
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
