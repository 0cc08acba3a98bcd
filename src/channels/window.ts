export const HOUR_MS = 60 * 60 * 1000;
/** Meta's customer-service window: free-form messages within 24 hours of the person's last message. */
export const SERVICE_WINDOW_MS = 24 * HOUR_MS;
/** Messenger HUMAN_AGENT tag: a person (mediator) may answer up to 7 days after the last message. */
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR_MS;

export function withinWindow(lastInboundAt: Date | undefined, windowMs: number, now: Date): boolean {
  if (!lastInboundAt) return false;
  const age = now.getTime() - lastInboundAt.getTime();
  return age >= -5 * 60 * 1000 && age < windowMs;
}
