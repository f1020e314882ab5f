import { describe, expect, it } from 'vitest';
import { clock, harmless, messageLines, readServerMessage } from './render.ts';

describe('tsws-chat output', () => {
  it('prints a message as "HH:MM:SS <name> text", further lines indented under the text', () => {
    const time = new Date(2024, 0, 2, 3, 4, 5).getTime();
    expect(messageLines({ name: 'bob', text: 'one\ntwo', time })).toEqual(['03:04:05 <bob> one', '               two']);
    expect(clock(time)).toBe('03:04:05');
  });

  it('never passes terminal control characters through', () => {
    expect(harmless('a\u001b[2Jb\u0007c\rd\u009be')).toBe('a\ufffd[2Jb\ufffdc\ufffdd\ufffde');
    expect(harmless('tab\there')).toBe('tab    here');
  });

  it('ignores frames that are not well-formed server messages', () => {
    for (const bad of ['nope', '[]', '{"type":"message","name":"x"}', '{"type":"welcome","room":"r"}', '{"type":"new-thing"}', '{"type":"left","room":"r","name":"x"}', '{"type":"welcome","room":"r","name":"n","channel":"room:r","members":[],"history":[{"name":"x"}],"time":1,"epoch":"E","offset":0}']) {
      expect(readServerMessage(bad), bad).toBeUndefined();
    }
    expect(readServerMessage('{"type":"members","room":"r","members":["a"]}')).toEqual({ type: 'members', room: 'r', members: ['a'] });
  });
});
