import { icd10Lookup } from './icd10';

test("the doctor's code is checked against the Ministry of Health ICD-10 list, case folded, with its Russian title", () => {
  expect(icd10Lookup('j06.9')).toEqual({ code: 'J06.9', title: expect.stringMatching(/верхних дыхательных путей/) });
  expect(icd10Lookup(' I10 ')).toEqual({ code: 'I10', title: expect.stringMatching(/гипертензия/i) });
  expect(icd10Lookup('A00.99')).toBeUndefined();
  expect(icd10Lookup('A00-A09')).toBeUndefined();
  expect(icd10Lookup('<script>')).toBeUndefined();
});
