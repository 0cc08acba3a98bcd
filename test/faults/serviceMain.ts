/**
 * The service as its own process, for fault tests that kill it or that must
 * not run the service inside jest's sandbox (errors created by Node's own
 * sockets are not `instanceof Error` there, which changes how botbuilder
 * wraps them). Configured by the environment; tells its URL over IPC.
 */
import pino from 'pino';
import { start } from '../../src/index';

start({ logger: process.env.FAULT_LOG ? pino({ level: 'debug' }, pino.destination(process.env.FAULT_LOG)) : pino({ level: 'silent' }) })
  .then((svc) => {
    process.send?.({ url: svc.url });
    // The test process went away (a failed or interrupted run): do not outlive it.
    process.once('disconnect', () => process.exit(0));
    process.on('message', (msg: { cmd?: string }) => {
      if (msg.cmd === 'close') void svc.close().then(() => process.exit(0));
    });
  })
  .catch((err: Error) => {
    process.stderr.write(`service failed to start: ${err.message}\n`);
    process.exit(1);
  });
