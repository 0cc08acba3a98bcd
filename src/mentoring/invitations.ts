import { createHash, randomBytes } from 'crypto';
import type { AccountDoc, AccountService } from '../console/accounts';
import type { MediatorRef } from '../handoff/conversationStore';
import type { MentorInvitationDoc, MentorStore } from './mentorStore';

export const INVITATION_DAYS = 7;
const hashToken = (token: string) => createHash('sha256').update(`mentor-invitation\n${token}`).digest('hex');

export class InvitationError extends Error {
  constructor(readonly code: 'invalid_invitation' | 'expired_invitation' | 'used_invitation', message: string) {
    super(message);
    this.name = 'InvitationError';
  }
}

/**
 * Mentors join only by invitation: an admin invites an address, the link (a random token, stored hashed) expires
 * after INVITATION_DAYS and works once; the mentor chooses a password under the same rules as the team's.
 */
export class MentorInvitations {
  constructor(private readonly deps: { store: MentorStore; accounts: AccountService; now?: () => Date }) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** A new invitation; the token is returned once (for the link) and never stored. */
  async invite(input: { email: string; displayName: string }, by: MediatorRef): Promise<{ token: string; invitation: MentorInvitationDoc }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const invitation: MentorInvitationDoc = { _id: hashToken(token), email: input.email, displayName: input.displayName, createdBy: { id: by.id, name: by.name }, createdAt: now, expiresAt: new Date(now.getTime() + INVITATION_DAYS * 86400000) };
    await this.deps.store.addInvitation(invitation);
    return { token, invitation };
  }

  /** What the invitation page shows before the mentor chooses a password (name and address). */
  async peek(token: string): Promise<MentorInvitationDoc> {
    const inv = typeof token === 'string' && token.length >= 20 && token.length <= 100 ? await this.deps.store.invitation(hashToken(token)) : null;
    if (!inv) throw new InvitationError('invalid_invitation', 'This invitation link is not valid');
    if (inv.usedAt) throw new InvitationError('used_invitation', 'This invitation was already used: sign in instead');
    if (new Date(inv.expiresAt).getTime() < this.now().getTime()) throw new InvitationError('expired_invitation', 'This invitation expired: ask the association for a new one');
    return inv;
  }

  /**
   * Creates the mentor's account. The password is checked by the account service (AccountError invalid, with the
   * field); a second acceptance of the same link, even at the same moment, gets used_invitation.
   */
  async accept(token: string, password: string): Promise<AccountDoc> {
    const inv = await this.peek(token);
    if (!(await this.deps.store.takeInvitation(inv._id, this.now()))) throw new InvitationError('used_invitation', 'This invitation was already used: sign in instead');
    let account: AccountDoc;
    try {
      account = await this.deps.accounts.create({ email: inv.email, displayName: inv.displayName, role: 'mentor', password });
    } catch (err) {
      await this.deps.store.releaseInvitation(inv._id);
      throw err;
    }
    await this.deps.store.markUsed(inv._id, account._id, this.now());
    return account;
  }
}
