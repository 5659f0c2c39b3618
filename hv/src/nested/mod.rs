//! PAPR nested API v2: what an L1 hypervisor in an LPAR uses to run L2 guests.
