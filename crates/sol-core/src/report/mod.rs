//! The campaign report: charts (SVG), the self-contained `report/index.html`, and
//! `report_status.json`. Pure: the binary reads the cells' results and writes what these
//! functions return.

pub mod charts;
pub mod html;
pub mod status;
pub mod svg;
