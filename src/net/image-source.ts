/**
 * An image named by a string, as CSV rows (`img_url`) and the command line give them: an http(s)
 * URL, fetched under the SSRF rules of safe-fetch, or a file path, relative to a base directory.
 * Any other scheme is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { badInput } from '../errors';
import { fetchImage } from './safe-fetch';

export type ImageSource = { kind: 'url'; url: string } | { kind: 'file'; path: string };

/** What `ref` names; throws BAD_USER_INPUT URL_SCHEME for a scheme other than http(s). */
export function imageSource(ref: string, baseDir: string): ImageSource {
  if (/^https?:\/\//i.test(ref)) return { kind: 'url', url: ref };
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) throw badInput('URL_SCHEME', `image URL scheme not allowed: ${ref}`);
  return { kind: 'file', path: path.resolve(baseDir, ref) };
}

export interface ReadImageOptions {
  allowPrivateUrls: boolean;
  /** The reason of the error for a file that cannot be read (default FILE_NOT_FOUND). */
  missingReason?: string;
}

/** The bytes behind a source: fetched (BAD_USER_INPUT with safe-fetch's reasons) or read from disk. */
export async function readImageSource(source: ImageSource, opts: ReadImageOptions): Promise<Buffer> {
  if (source.kind === 'url') return (await fetchImage(source.url, { allowPrivate: opts.allowPrivateUrls })).bytes;
  try {
    return await fs.promises.readFile(source.path);
  } catch {
    throw badInput(opts.missingReason ?? 'FILE_NOT_FOUND', `cannot read image file ${source.path}`);
  }
}
