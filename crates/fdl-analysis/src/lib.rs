//! fdl-analysis
