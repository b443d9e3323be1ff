import {
  complaintsProblem,
  diagnosisCards,
  normalizeComplaints,
  parseDiagnosisModelMeta,
  rankSuggestions,
  suggestionHit,
  type DiagnosisModelMeta,
} from './diagnosis';

const meta: DiagnosisModelMeta = parseDiagnosisModelMeta(
  {
    id: 'diagnosis-suggestions',
    version: '9.9.9',
    task: 'text-classification',
    file: 'x.onnx',
    inputName: 'text',
    outputName: 'probabilities',
    labels: [
      { code: 'I10', title: 'Эссенциальная гипертензия' },
      { code: 'J06', title: 'Острые инфекции верхних дыхательных путей' },
      { code: 'K29', title: 'Гастрит и дуоденит' },
      { code: 'M54', title: 'Дорсалгия' },
    ],
    bands: [
      { name: 'high', from: 0.5 },
      { name: 'moderate', from: 0.25 },
      { name: 'low', from: 0 },
    ],
    lowConfidenceBelow: 0.15,
    metrics: { dev: { n: 848, hit1: 50, hit3: 73, hit1CI95: [46, 53], hit3CI95: [70, 76] } },
  },
  'test',
);

describe('the complaints text the model reads', () => {
  test('is lower case with whitespace runs collapsed, the same steps as training', () => {
    expect(normalizeComplaints('  Кашель,\tНасморк\n\n  ТЕМПЕРАТУРА 38\u00a0°C  ')).toBe('кашель, насморк температура 38 °c');
    expect(normalizeComplaints('Ёлка\u2003и\ufeffйод')).toBe('ёлка и йод');
    // A decomposed й (и + combining breve) is composed first, as Python's NFC does.
    expect(normalizeComplaints('и\u0306од')).toBe('йод');
  });

  test('refuses an empty, too short, non-Russian or over-long text with its own code', () => {
    expect(complaintsProblem('')?.code).toBe('text_too_short');
    expect(complaintsProblem('   кашель   ')?.code).toBe('text_too_short');
    expect(complaintsProblem('cough and fever for three days')?.code).toBe('text_not_russian');
    expect(complaintsProblem('<script>alert(1)</script>')?.code).toBe('text_not_russian');
    expect(complaintsProblem('боль '.repeat(1001))?.code).toBe('text_too_long');
    expect(complaintsProblem('головокружение')).toBeNull();
    expect(complaintsProblem('<b>кашель</b> и насморк три дня')).toBeNull();
  });
});

describe('suggestions from the model probabilities', () => {
  test('are the three most probable label codes with titles and bands, ties kept in label order', () => {
    const r = rankSuggestions(meta, [0.1, 0.6, 0.1, 0.2]);
    expect(r.suggestions).toEqual([
      { code: 'J06', title: 'Острые инфекции верхних дыхательных путей', probability: 0.6, band: 'high' },
      { code: 'M54', title: 'Дорсалгия', probability: 0.2, band: 'low' },
      { code: 'I10', title: 'Эссенциальная гипертензия', probability: 0.1, band: 'low' },
    ]);
    expect(r.lowConfidence).toBe(false);
    expect(rankSuggestions(meta, [0.3, 0.3, 0.3, 0.1]).suggestions[0]!.band).toBe('moderate');
  });

  test('say low confidence when the top probability is under the threshold, and the cards say so instead of ranking', () => {
    const r = rankSuggestions(
      meta,
      [0.14, 0.14, 0.13, 0.59].map((p, i) => (i === 3 ? 0.14 : p)),
    );
    expect(r.lowConfidence).toBe(true);
    const cards = diagnosisCards(meta, r, 'sugg-1');
    expect(cards).toHaveLength(1);
    expect(cards[0]!.summary).toMatch(/не уверена/);
    expect(cards[0]!.source.url).toBe('models/diagnosis-suggestions.card.md');
  });

  test('make three titled cards that say they are a suggestion, not a diagnosis', () => {
    const cards = diagnosisCards(meta, rankSuggestions(meta, [0.05, 0.7, 0.15, 0.1]), 'sugg-2');
    expect(cards.map((c) => c.summary)).toEqual([
      '1. J06 Острые инфекции верхних дыхательных путей — вероятность высокая',
      '2. K29 Гастрит и дуоденит — вероятность низкая',
      '3. M54 Дорсалгия — вероятность низкая',
    ]);
    for (const c of cards) {
      expect(c.detail).toContain('Подсказка, а не диагноз');
      expect(c.summary.length).toBeLessThan(140);
      expect(c.extension).toEqual({
        'clinical-engine-suggestion': { id: 'sugg-2', modelId: 'diagnosis-suggestions', modelVersion: '9.9.9' },
      });
    }
  });

  test('refuse a probability vector of the wrong length', () => {
    expect(() => rankSuggestions(meta, [1, 0])).toThrow(/expected 4/);
  });
});

test('the final code counts as a hit by its three-character category', () => {
  expect(suggestionHit('J06.9', ['J06', 'J20', 'J02'])).toEqual({ top1: true, top3: true });
  expect(suggestionHit('J02', ['J06', 'J20', 'J02'])).toEqual({ top1: false, top3: true });
  expect(suggestionHit('I10', ['J06', 'J20', 'J02'])).toEqual({ top1: false, top3: false });
});
