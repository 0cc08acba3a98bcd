/** Kills process `pid` abruptly (SIGKILL: no shutdown, no checkpoint) and waits until it is gone (at most 5 s). */
export async function killAndWait(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 250; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} still alive after SIGKILL`);
}
