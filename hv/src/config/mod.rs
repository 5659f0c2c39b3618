//! LPAR configuration: the TOML a user writes, its checks against the machine, and the compiled blob the firmware reads.
