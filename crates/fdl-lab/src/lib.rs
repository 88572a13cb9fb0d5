//! fdl-lab
