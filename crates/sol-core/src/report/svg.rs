//! SVG building blocks shared by the charts (being written).
