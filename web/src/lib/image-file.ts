/** The API's limit for imageBase64 (10 MB of image bytes). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/** The bytes of an image file as base64 (without the data: prefix), for PosterInput.imageBase64. */
export function fileToBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.readAsDataURL(file);
  });
}

/** The first image among pasted or dropped items, if any. */
export function firstImage(files: FileList | null | undefined): File | null {
  for (const f of Array.from(files ?? [])) if (f.type.startsWith('image/')) return f;
  return null;
}
