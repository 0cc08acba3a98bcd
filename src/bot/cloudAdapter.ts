import { Activity, CloudAdapter, InvokeResponse, TurnContext } from 'botbuilder';

/**
 * CloudAdapter whose activity processing is callable by our own HTTP route,
 * so that errors map to clean JSON responses (CloudAdapter.process echoes
 * internal error messages and logs them with console.error).
 */
export class DeclicCloudAdapter extends CloudAdapter {
  handle(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    return this.processActivity(authHeader, activity, logic);
  }
}
