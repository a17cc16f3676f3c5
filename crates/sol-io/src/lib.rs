//! I/O edges of `dcgm-sol`: campaign layout and path confinement, atomic writes, and the
//! file-backed metric sources. Everything computed comes from `sol-core`.
