// Images as the lab uses them: an image is never replaced or removed under booted hosts running on it.
import { OrchError } from '../errors.js';
import { bootedAlive } from './booted.js';
import { buildImage, imageInfo, removeImage, type ImageInfo } from './image.js';
import { readRegistry } from './registry.js';
import type { Suite } from './suites.js';

/** Throw when booted hosts of this suite run (their overlays sit on the image's tree). */
function refuseWhileInUse(suite: Suite): void {
  const users = readRegistry().hosts.filter(
    (h) => h.kind === 'booted' && h.os === suite.name && bootedAlive(h),
  );
  if (users.length > 0) {
    throw new OrchError(
      'LAB_ERROR',
      `booted hosts run on the ${suite.name} image (${users.map((h) => h.name).join(', ')}): ` +
        `take them down first (orch lab down ${users.map((h) => h.short).join(' ')})`,
    );
  }
}

/** Build (when absent or stale, or forced) the suite's image; returns its info and whether it was built now. */
export function buildLabImage(
  suite: Suite,
  opts: { force?: boolean; log?: (line: string) => void } = {},
): Promise<{ info: ImageInfo; built: boolean }> {
  return buildImage(suite, { ...opts, beforeSwap: refuseWhileInUse });
}

/** Make sure the suite's image is ready, building it when it is not (minutes, the first time). */
export async function ensureImage(suite: Suite, log?: (line: string) => void): Promise<ImageInfo> {
  const info = imageInfo(suite);
  if (info.state === 'ready') return info;
  log?.(`the ${suite.name} image is ${info.state}: building it (debootstrap, about a minute or two)`);
  return (await buildLabImage(suite, { log })).info;
}

/** Remove the suite's image unless hosts run on it; false when there was none. */
export function removeLabImage(suite: Suite): Promise<boolean> {
  return removeImage(suite, refuseWhileInUse);
}
