/** How a poster is resized to the backbone's input: a plain-data choice that manifests name too. */

/**
 * - 'squash': resize the whole poster to the input size, ignoring aspect ratio (fit fill);
 * - 'centre': scale to cover the input and crop the centre;
 * - 'topbottom': two cover crops, top and bottom; the image's embedding is the normalised average of both.
 * - 'squash+topbottom': the squashed image and both crops, averaged (best macro F1 in docs/ml-levers.md, 3x the inference).
 */
export type ResizeStrategy = 'squash' | 'centre' | 'topbottom' | 'squash+topbottom';
export const RESIZE_STRATEGIES: readonly ResizeStrategy[] = ['squash', 'centre', 'topbottom', 'squash+topbottom'];
/** The one place to change the default (a colleague measures which strategy wins on macro F1). */
export const DEFAULT_RESIZE_STRATEGY: ResizeStrategy = 'squash';

/** Tensor rows one image takes under a strategy (topbottom: 2, squash+topbottom: 3). */
export function cropsFor(strategy: ResizeStrategy): number {
  return strategy === 'squash+topbottom' ? 3 : strategy === 'topbottom' ? 2 : 1;
}
