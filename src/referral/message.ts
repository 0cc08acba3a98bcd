import type { Referral, Structure } from '../dialogs/data';

/** One structure as a few chat lines (name, place, phone, site). */
export function structureLines(s: Pick<Structure, 'name' | 'address' | 'postcode' | 'city' | 'phone' | 'website'>): string {
  const place = [s.address, [s.postcode, s.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  const parts = [`• ${s.name}`];
  if (place) parts.push(`  📍 ${place}`);
  if (s.phone) parts.push(`  📞 ${s.phone}`);
  if (s.website) parts.push(`  🌐 ${s.website}`);
  return parts.join('\n');
}

/**
 * The referral as chat messages: whom to see for this commune and age, then the general entries.
 * `t` renders a text key of the locale with placeholders.
 */
export function referralMessages(r: Referral, t: (key: string, vars?: Record<string, string>) => string, depName?: string): string[] {
  const where = r.commune ? r.commune.name : depName ?? r.departement ?? '';
  const head =
    r.main === 'france_travail'
      ? t('closing.referral_ft', { where })
      : r.main === 'info_jeunes'
        ? t('closing.referral_young')
        : r.covered
          ? t('closing.referral_ml', { where })
          : r.local.length
            ? t('closing.referral_ml_dep', { where })
            : t('closing.structures_none');
  const first: string[] = [head];
  if (r.local.length) first.push(r.local.map(structureLines).join('\n'));
  if (r.locator && !r.local.some((s) => s.website === r.locator!.website)) first.push(t('closing.structures_locator', { url: r.locator.website }));
  const messages = [first.join('\n')];
  if (r.general.length) messages.push([t('closing.structures_general'), r.general.map(structureLines).join('\n')].join('\n'));
  return messages;
}
