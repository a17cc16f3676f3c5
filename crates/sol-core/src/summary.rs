//! Patching the "Workload-level SoL" table of a campaign's `sol-summary.md` (being written).
