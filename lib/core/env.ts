// Reads the on/off switches (MNIST_NB_QUICK, MNIST_NB_STATIC, …) the notebook runner sets for the kernel.

/** Set and not '', '0' or 'false' (any case). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
