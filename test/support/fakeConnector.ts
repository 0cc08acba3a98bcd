import { createServer, Server } from 'http';
import type { AddressInfo } from 'net';

export interface ConnectorCall {
  method: string;
  path: string;
  body: any;
}

/**
 * A local Bot Framework Connector service: the `serviceUrl` of test
 * conversations points here, so proactive messages (a mediator's reply, a
 * follow-up) travel over the real Bot Framework REST protocol
 * (POST /v3/conversations/{id}/activities) and are recorded.
 */
export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  private server?: Server;
  private counter = 0;
  failNext = 0;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.calls.push({ method: req.method ?? '', path: req.url ?? '', body: raw ? JSON.parse(raw) : undefined });
        res.setHeader('content-type', 'application/json');
        if (this.failNext > 0) {
          this.failNext--;
          res.statusCode = 403;
          res.end(JSON.stringify({ error: { code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' } }));
          return;
        }
        res.statusCode = 200;
        res.end(JSON.stringify({ id: `act-${++this.counter}` }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  activities(conversationId: string): any[] {
    return this.calls.filter((c) => c.method === 'POST' && decodeURIComponent(c.path).includes(`/v3/conversations/${conversationId}/activities`)).map((c) => c.body);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
