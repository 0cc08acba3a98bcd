import { EventEmitter } from 'events';
import type { Severity } from '../barriers/types';

/** Live events for the mediators' console (Server-Sent Events). */
export type HandoffEvent =
  | { type: 'queued'; key: string; severity: Severity; name?: string }
  /** mediatorId: the mediator holding the conversation when the young person wrote (inbound only). */
  | { type: 'message'; key: string; direction: 'inbound' | 'outbound'; mediatorId?: string; name?: string }
  | { type: 'claimed'; key: string; mediatorId: string }
  | { type: 'released'; key: string }
  | { type: 'closed'; key: string }
  | { type: 'reopened'; key: string; state?: 'with_mediator' | 'waiting'; mediatorId?: string }
  | { type: 'transferred'; key: string; mediatorId: string; fromId: string }
  /** The young person erased their data (the key is all the console gets: it drops the conversation it shows). */
  | { type: 'erased'; key: string }
  | { type: 'detection'; key: string; severity: Severity; name?: string }
  /** A colleague changed what the conversation view shows besides messages (tags, notes, follow-ups). */
  | { type: 'updated'; key: string; part: 'tags' | 'notes' | 'followups' };

export class HandoffEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  emit(event: HandoffEvent): void {
    this.emitter.emit('event', event, 'local');
  }

  /** An event of another service process (src/handoff/eventRelay.ts): delivered here, never relayed again. */
  emitRelayed(event: HandoffEvent): void {
    this.emitter.emit('event', event, 'relay');
  }

  subscribe(listener: (event: HandoffEvent, origin: 'local' | 'relay') => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
