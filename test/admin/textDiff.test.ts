import { diffForPublish, lineChanges, textChanges } from '../../src/admin/textDiff';

describe('the diff shown before publishing', () => {
  it('locale files: texts added, removed and changed, by key', () => {
    const before = JSON.stringify({ menu: { question: 'Tu veux faire quoi ?', bye: 'Salut' } });
    const after = JSON.stringify({ menu: { question: 'On fait quoi ?', hello: 'Coucou' } });
    expect(textChanges(before, after)).toEqual([
      { key: 'menu.bye', before: 'Salut', after: null },
      { key: 'menu.hello', before: null, after: 'Coucou' },
      { key: 'menu.question', before: 'Tu veux faire quoi ?', after: 'On fait quoi ?' },
    ]);
  });

  it('other files: changed lines with one line of context', () => {
    const before = ['id: menu', 'steps:', '  - id: a', '    type: message', '    text: menu.bye', '    next: b', '  - id: b'].join('\n');
    const after = ['id: menu', 'steps:', '  - id: a', '    type: message', '    text: menu.hello', '    next: b', '  - id: b'].join('\n');
    expect(lineChanges(before, after)).toEqual([
      { op: ' ', line: 4, text: '    type: message' },
      { op: '-', line: 5, text: '    text: menu.bye' },
      { op: '+', line: 5, text: '    text: menu.hello' },
      { op: ' ', line: 6, text: '    next: b' },
    ]);
  });

  it('files added and removed', () => {
    const out = diffForPublish({ 'dialogs/flows/old.yaml': 'id: old' }, { 'dialogs/flows/new.yaml': 'id: new' });
    expect(out.map((f) => [f.file, f.status])).toEqual([
      ['dialogs/flows/new.yaml', 'added'],
      ['dialogs/flows/old.yaml', 'removed'],
    ]);
    expect(out[0].lines).toEqual([{ op: '+', line: 1, text: 'id: new' }]);
    expect(out[1].lines).toEqual([{ op: '-', line: 1, text: 'id: old' }]);
  });
});
