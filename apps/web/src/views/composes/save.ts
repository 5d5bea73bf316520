/** Hands a downloaded Blob to the browser to save under `name` (an object URL, freed after). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The browser reads the URL after the click returns; a minute is ample to start the save.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
