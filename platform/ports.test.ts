import { freePort } from './ports';

// npm start picks its ports one after another; the kernel may offer a just-closed port again, and two
// settings sharing one (the CDS worker's scoring endpoint and its metrics) kill the worker at boot.
test('freePort never hands out the same port twice in one process', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(ports.length);
});
