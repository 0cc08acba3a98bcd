import { BarrierDetector } from '../barriers/detector';
import type { Detection } from '../barriers/types';
import type { Lexicon } from '../barriers/lexicon';
import type { BarrierModel } from '../barriers/model/classifier';

/**
 * A barrier detector whose lexicon can be replaced while the service runs
 * (a published script version with edited lexicons). Everything that holds
 * it (the barrier gate, the rate limiter's bypass) sees the new lexicon at
 * the next message.
 */
export class LiveDetector extends BarrierDetector {
  private current: BarrierDetector;
  private appliedHash: string | undefined;

  constructor(
    /** The deployed lexicon (the checkout's), before any published version replaced it. */
    readonly deployedLexicon: Lexicon,
    /** The learned layer, the same whatever lexicon is applied. */
    readonly learned: BarrierModel | null = null,
  ) {
    super(deployedLexicon, { model: learned });
    this.current = new BarrierDetector(deployedLexicon, { model: learned });
  }

  detect(text: string): Detection {
    return this.current.detect(text);
  }

  /** Swaps the lexicon (compiled first: a lexicon that fails to compile leaves the current one in place). */
  apply(lexicon: Lexicon, hash: string): void {
    if (hash === this.appliedHash) return;
    this.current = new BarrierDetector(lexicon, { model: this.learned });
    this.appliedHash = hash;
  }
}
