// Small statistics for reporting timings: median and range, so benchmark runs can be compared.
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Peak resident memory of this process so far, in MiB (the kernel's high-water mark, not a sample). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
