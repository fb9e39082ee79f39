// One served page per test file: the vitest hooks every browser test file needs, kept out of
// harness.js because the bench and screenshot scripts import that one outside vitest.
import { afterAll, beforeAll } from 'vitest';
import { servePage } from './harness.js';

/** Serves dist/ for the calling test file; the returned function gives its address plus `suffix`. */
export function servedPage() {
  let page;
  beforeAll(async () => {
    page = await servePage();
  });
  afterAll(async () => {
    await page?.close();
  });
  return (suffix = '') => page.url + suffix;
}
