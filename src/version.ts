/** The package's version, as `nnshrink --version` prints it. */
export const VERSION = '0.1.0';
