/** The chatbot's decisions (src/chat/bot.ts) on hand-made rankings: fallback, alternatives, and the context rule. */
import { answerOf, closestTopicsLine, followUp, userMessages, type Topic } from '../../../src/chat/bot.js';

/** An FAQ topic (question q, answer "A:q") or, with oos, an intent topic. */
function faqTopic(question: string, score: number, intent = question): Topic {
  return {
    answer: `A:${question}`, score, label: question, topic: intent, intent, outOfScope: false,
    source: { row: 1, question, intent }, alternative: { row: 1, question, answer: `A:${question}`, intent, score },
  };
}
function intentTopic(intent: string, score: number, oos = false): Topic {
  return { answer: oos ? '' : `R:${intent}`, score, label: intent, topic: intent, intent, outOfScope: oos, source: { intent }, alternative: { intent, answer: `R:${intent}`, score } };
}

const settings = { threshold: 0.7, alternatives: 2 };

describe('answerOf: the answer, or the fallback', () => {
  const ranking = [faqTopic('Where is my order?', 0.82), faqTopic('How do I pay?', 0.75), faqTopic('Can I return it?', 0.6), faqTopic('Hi?', 0.1)];

  test('at or above the threshold: the best answer, its source and score, the next topics as alternatives', () => {
    const a = answerOf(ranking, settings);
    expect(a).toEqual({
      answer: 'A:Where is my order?', source: { row: 1, question: 'Where is my order?', intent: 'Where is my order?' }, score: 0.82, fallback: false,
      alternatives: [ranking[1].alternative, ranking[2].alternative],
    });
    expect(Object.keys(a)).toEqual(['answer', 'source', 'score', 'fallback', 'alternatives']);
    expect(answerOf(ranking, { ...settings, threshold: 0.82 }).fallback).toBe(false); // ≥ threshold answers
    expect(answerOf(ranking, { ...settings, alternatives: 0 }).alternatives).toEqual([]);
  });

  test('below the threshold: the closest topics line (three, quoted), or the --fallback line; source and score still the best match', () => {
    const a = answerOf(ranking, { ...settings, threshold: 0.9 });
    expect(a.fallback).toBe(true);
    expect(a.answer).toBe('I\'m not sure — here are the closest topics: "Where is my order?", "How do I pay?", "Can I return it?"');
    expect(a.answer).toBe(closestTopicsLine(['Where is my order?', 'How do I pay?', 'Can I return it?']));
    expect(a.score).toBe(0.82);
    expect(a.source).toEqual(ranking[0].source);
    const b = answerOf(ranking, { ...settings, threshold: 0.9, fallback: 'Let me connect you to a colleague.' });
    expect(b.answer).toBe('Let me connect you to a colleague.');
  });

  test('intent mode: the out-of-scope label falls back whatever its probability, and is never an alternative or a topic named', () => {
    const ranking = [intentTopic('oos', 0.95, true), intentTopic('track', 0.03), intentTopic('pay', 0.02)];
    const a = answerOf(ranking, settings);
    expect(a).toMatchObject({ fallback: true, source: { intent: 'oos' }, score: 0.95 });
    expect(a.answer).toBe('I\'m not sure — here are the closest topics: "track", "pay"');
    expect(a.alternatives).toEqual([{ intent: 'track', answer: 'R:track', score: 0.03 }, { intent: 'pay', answer: 'R:pay', score: 0.02 }]);
    const b = answerOf([intentTopic('track', 0.6), intentTopic('oos', 0.3, true), intentTopic('pay', 0.1)], settings);
    expect(b).toMatchObject({ fallback: true, source: { intent: 'track' } }); // low confidence
    expect(b.alternatives.map((x) => x.intent)).toEqual(['pay']);
  });
});

describe('followUp: context only rescues a message that cannot be answered, and only onto the previous topic', () => {
  const alone = [faqTopic('q-new', 0.5, 'refund')];
  test('the joined reading is taken when it can be answered and lands on the previous message\'s topic', () => {
    const joined = [faqTopic('q-ship', 0.8, 'shipping')];
    const before = [faqTopic('q-ship2', 0.9, 'shipping')];
    expect(followUp(alone, joined, before, 0.7)).toBe(joined);
  });
  test('otherwise the message alone (its fallback): another topic, or a joined reading below the threshold', () => {
    expect(followUp(alone, [faqTopic('q', 0.8, 'payments')], [faqTopic('q', 0.9, 'shipping')], 0.7)).toBe(alone);
    expect(followUp(alone, [faqTopic('q', 0.65, 'shipping')], [faqTopic('q', 0.9, 'shipping')], 0.7)).toBe(alone);
    const oosJoined = [intentTopic('oos', 0.9, true)];
    expect(followUp(alone, oosJoined, [intentTopic('oos', 0.9, true)], 0.7)).toBe(alone);
  });
  test('userMessages: strings are user messages; role-tagged turns count only when the user wrote them', () => {
    expect(userMessages(['a', { role: 'bot', text: 'b' }, { role: 'user', text: 'c' }])).toEqual(['a', 'c']);
  });
});
