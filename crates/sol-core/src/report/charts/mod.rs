//! The report charts, each a standalone SVG document (being written).
