import { ActivityHandler, BotState, StatePropertyAccessor, TurnContext } from 'botbuilder';
import { pickLocale, Texts } from '../i18n';

interface UserProfile {
  name?: string;
  firstSeen?: string;
}

interface ConversationData {
  askedName?: boolean;
}

/** Extracts a first name from "je m'appelle Inès", "moi c'est Yanis", "my name is Sam" or a bare "Inès". */
export function extractName(text: string): string | undefined {
  const cleaned = text
    .trim()
    .replace(/^(bonjour|salut|slt|hello|hi|coucou|yo)[\s,!.]*/i, '')
    .replace(/^(je m'?appelle|jm'?appelle|moi c'?est|c'?est|mon pr[ée]nom c'?est|my name is|i'?m|i am)\s+/i, '');
  const word = cleaned.split(/\s+/)[0]?.replace(/[^\p{L}'-]/gu, '');
  if (!word || word.length > 40) return undefined;
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** A first bot: greets in French and remembers the person across turns and restarts. */
export class DeclicBot extends ActivityHandler {
  private readonly profile: StatePropertyAccessor<UserProfile>;
  private readonly convData: StatePropertyAccessor<ConversationData>;

  constructor(private readonly conversationState: BotState, private readonly userState: BotState, private readonly texts: Texts) {
    super();
    this.profile = userState.createProperty<UserProfile>('profile');
    this.convData = conversationState.createProperty<ConversationData>('conversationData');

    this.onMessage(async (context, next) => {
      const locale = pickLocale(context.activity.locale);
      const profile = await this.profile.get(context, {});
      const data = await this.convData.get(context, {});
      const text = (context.activity.text ?? '').trim();
      if (profile.name) {
        await context.sendActivity(this.texts.t(locale, 'hello.returning', { name: profile.name }));
      } else if (data.askedName && text) {
        const name = extractName(text);
        if (name) {
          profile.name = name;
          profile.firstSeen = new Date().toISOString();
          await context.sendActivity(this.texts.t(locale, 'hello.named', { name }));
        } else {
          await context.sendActivity(this.texts.t(locale, 'hello.first'));
        }
      } else {
        data.askedName = true;
        await context.sendActivity(this.texts.t(locale, 'hello.first'));
      }
      await next();
    });
  }

  async run(context: TurnContext): Promise<void> {
    await super.run(context);
    await this.conversationState.saveChanges(context, false);
    await this.userState.saveChanges(context, false);
  }
}
