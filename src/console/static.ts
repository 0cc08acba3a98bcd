import * as fs from 'fs';
import * as path from 'path';
import type { Logger } from 'pino';
import type { Request, Response, Server } from 'restify';
import { pageHeaders } from './http';
import { sendError } from '../http/server';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * A page of plain files from `publicDir` under `mount` (the console at /console, the script editor at
 * /console/admin), served from a whitelist built at boot (no path from the request ever reaches the file system).
 */
export function registerStaticRoutes(server: Server, opts: { publicDir: string; hsts: boolean; logger?: Logger; mount?: string }): void {
  const mount = opts.mount ?? '/console';
  const files = new Map<string, { type: string; file: string }>();
  if (!fs.existsSync(opts.publicDir)) {
    // The API keeps working; the page answers 404 until the files are deployed next to the service.
    opts.logger?.error({ publicDir: opts.publicDir, mount }, 'page files not found: the page answers 404 (deploy its public folder with the service)');
  }
  for (const name of fs.existsSync(opts.publicDir) ? fs.readdirSync(opts.publicDir) : []) {
    const type = TYPES[path.extname(name)];
    if (type && /^[a-z0-9_-]+\.[a-z]+$/i.test(name)) files.set(name, { type, file: path.join(opts.publicDir, name) });
  }
  const send = async (res: Response, name: string) => {
    pageHeaders(res, opts.hsts);
    const entry = files.get(name);
    if (!entry) return sendError(res, 404, 'not_found', 'No such file');
    const body = await fs.promises.readFile(entry.file);
    res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length });
    res.end(body);
  };
  server.get(mount, async (_req: Request, res: Response) => send(res, 'index.html'));
  server.get(`${mount}/:file`, async (req: Request, res: Response) => send(res, String(req.params.file ?? '')));
}
