import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { imageCacheDir, imageInfo, listImages, removeImage } from '../../../src/lab/image.js';
import { imageRecipe, recipeHash } from '../../../src/lab/image-recipe.js';
import { parseSuite } from '../../../src/lab/suites.js';

describe('lab/image cache', () => {
  let tmp: string;
  let saved: string | undefined;
  const bookworm = parseSuite('bookworm');

  function fakeImage(suite: string, hash: string, rootfs = true): void {
    const dir = path.join(tmp, suite);
    if (rootfs) mkdirSync(path.join(dir, 'rootfs', 'etc'), { recursive: true });
    else mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'image.json'), JSON.stringify({ suite, recipeHash: hash, bytes: 1 }));
  }

  beforeEach(() => {
    saved = process.env.ORCH_LAB_IMAGES;
    tmp = mkdtempSync(path.join(tmpdir(), 'orch-images-'));
    process.env.ORCH_LAB_IMAGES = tmp;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.ORCH_LAB_IMAGES;
    else process.env.ORCH_LAB_IMAGES = saved;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lives where ORCH_LAB_IMAGES says, outside the repository by default', () => {
    assert.equal(imageCacheDir(), tmp);
    delete process.env.ORCH_LAB_IMAGES;
    assert.equal(imageCacheDir(), '/var/cache/orch-lab/images');
  });

  it('is ready only with a tree and the current recipe hash; another hash is stale', () => {
    assert.equal(imageInfo(bookworm).state, 'absent');
    fakeImage('bookworm', recipeHash(imageRecipe(bookworm)));
    assert.equal(imageInfo(bookworm).state, 'ready');
    fakeImage('trixie', 'an-older-recipe');
    assert.deepEqual(
      listImages().map((i) => [i.suite, i.state]),
      [
        ['bullseye', 'absent'],
        ['bookworm', 'ready'],
        ['trixie', 'stale'],
      ],
    );
  });

  it('does not take an interrupted build or a tree without image.json for an image', () => {
    mkdirSync(path.join(tmp, '.build-bookworm-999999', 'rootfs'), { recursive: true });
    writeFileSync(
      path.join(tmp, '.build-bookworm-999999', 'image.json'),
      JSON.stringify({ recipeHash: recipeHash(imageRecipe(bookworm)) }),
    );
    assert.equal(imageInfo(bookworm).state, 'absent');
    fakeImage('bookworm', recipeHash(imageRecipe(bookworm)), false);
    assert.equal(imageInfo(bookworm).state, 'absent', 'image.json without rootfs');
  });

  it('removes an image, and says when there was none', async () => {
    fakeImage('bookworm', recipeHash(imageRecipe(bookworm)));
    assert.equal(await removeImage(bookworm), true);
    assert.equal(existsSync(path.join(tmp, 'bookworm')), false);
    assert.equal(await removeImage(bookworm), false);
  });
});
