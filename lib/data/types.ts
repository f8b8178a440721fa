// The in-memory shape of a dataset: typed arrays only, never one JS object per sample.

/** One split: `count` images of height×width pixels, row-major, Float32 in [0, 1]; Int32 labels. */
export interface Split {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

export interface Dataset {
  /** 'mnist', 'mnist-quick', 'fashion-mnist' or 'idx-dir'. */
  readonly name: string;
  /** Where the data came from, in words (package name and version, or a folder). */
  readonly source: string;
  readonly classNames: readonly string[];
  readonly height: number;
  readonly width: number;
  readonly train: Split;
  /** Held out from the training files, deterministically (the last N training samples). */
  readonly validation: Split;
  readonly test: Split;
}
